/**
 * Logger and metrics, created once per container and shared by every module of a function, and the one
 * per-invocation wrapper both handlers go through.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
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

/** A Lambda handler as both functions export it. */
export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * `handler` with the per-invocation work every function shares, done by Powertools' own middy middlewares
 * (`injectLambdaContext`, `logMetrics`: aws-powertools/powertools-lambda-typescript,
 * packages/{logger,metrics}/src/middleware/middy.ts; Powertools for AWS Lambda (TypeScript), Metrics,
 * https://docs.aws.amazon.com/powertools/typescript/latest/core/metrics/): the invocation's Lambda context on every
 * log line (and the event, with POWERTOOLS_LOGGER_LOG_EVENT=true), the cold-start metric, and one flush of the
 * stored metrics per invocation, whether the handler returns or throws.
 *
 * middy's early timeout is off (`timeoutEarlyInMillis: 0`): each function keeps its own invocation deadline
 * (lambdas/shared/deadline.ts) and answers with a batch response before it, which a TimeoutError thrown by middy
 * 5 ms before the end would replace.
 */
export function withPowertools<E, R>(handler: LambdaHandler<E, R>): LambdaHandler<E, R> {
  const wrapped = middy<E, R, Error, Context>(handler, { timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
  return (event, context) => wrapped(event, context);
}
