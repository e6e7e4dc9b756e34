/** Logger and metrics, created once per container and shared by every module of a function. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { parseEnvironment } from './config';
import { PIPELINE_DIMENSION, PIPELINE_NAME_VARIABLE } from './observability';

/** Optional so local runs and tests need nothing; every deployed function has it (set by `PipelineFunction`). */
const ObservabilityEnvironmentSchema = z.object({
  [PIPELINE_NAME_VARIABLE]: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'expected the stack name')
    .optional(),
});

const pipeline = parseEnvironment(ObservabilityEnvironmentSchema)[PIPELINE_NAME_VARIABLE];

/**
 * Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE, the `pipeline`
 * dimension from PIPELINE_NAME (all set by the stack): every metric carries both `service` and `pipeline`.
 */
export const logger = new Logger();
export const metrics = new Metrics(pipeline ? { defaultDimensions: { [PIPELINE_DIMENSION]: pipeline } } : {});
