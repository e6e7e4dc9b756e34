/** Logger and metrics, created once per container and shared by every module of a function. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { FunctionEnvironmentSchema, PIPELINE_NAME_VARIABLE } from '../../contracts/environment';
import { PIPELINE_DIMENSION } from '../../contracts/metrics';
import { parseEnvironment } from './config';

const pipeline = parseEnvironment(FunctionEnvironmentSchema)[PIPELINE_NAME_VARIABLE];

/**
 * Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE, the `pipeline`
 * dimension from PIPELINE_NAME (all set by the stack): every metric carries both `service` and `pipeline`.
 */
export const logger = new Logger();
export const metrics = new Metrics(pipeline ? { defaultDimensions: { [PIPELINE_DIMENSION]: pipeline } } : {});
