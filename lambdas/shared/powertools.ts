/** Logger and metrics, created once per container and shared by every module of a function. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE (set by the stack). */
export const logger = new Logger();
export const metrics = new Metrics();
