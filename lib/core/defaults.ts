/**
 * Safe defaults for every resource the pipeline creates, in one place. Constructs spread these first and let
 * their props override, so a secure setting is the one you get unless you ask otherwise.
 */
import { Duration } from 'aws-cdk-lib';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { QueueEncryption, type QueueProps } from 'aws-cdk-lib/aws-sqs';

/** SQS: server-side encryption (SQS-managed keys, usable by IoT rule actions without KMS grants) and TLS only. */
export const QUEUE_DEFAULTS: Readonly<QueueProps> = {
  encryption: QueueEncryption.SQS_MANAGED,
  enforceSSL: true,
};

/** Dead-letter and error queues keep messages as long as SQS allows, for an operator to inspect and redrive. */
export const FAILURE_QUEUE_DEFAULTS: Readonly<QueueProps> = {
  ...QUEUE_DEFAULTS,
  retentionPeriod: Duration.days(14),
};

/**
 * Lambda: Graviton, the newest Node.js runtime aws-cdk-lib offers, JSON logs, no active tracing.
 * `NODEJS_LATEST` lags behind on purpose in aws-cdk-lib; this names the newest explicitly.
 *
 * No X-Ray: the sink cannot be traced at all (Lambda Developer Guide, "Visualize Lambda function invocations using
 * AWS X-Ray", https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html: not supported for functions with a
 * self-managed Apache Kafka event source mapping), and the forwarder's traces would show Lambda's own segments with
 * no Kafka span (kafkajs is not instrumented) for about $140/month at 100,000 msg/s. The decision and its figures:
 * docs/cost-and-scale.md, "Tracing".
 */
export const FUNCTION_DEFAULTS = {
  runtime: Runtime.NODEJS_24_X,
  architecture: Architecture.ARM_64,
  tracing: Tracing.DISABLED,
  loggingFormat: LoggingFormat.JSON,
} as const;

/**
 * esbuild: minified with names kept (errors are classified by `name`, and stack traces stay readable), CommonJS
 * output (kafkajs is CommonJS) built from the ESM entry points of packages that have one (so the AWS SDK and zod
 * tree-shake), and the AWS SDK bundled so the deployed SDK is the one the tests ran against.
 */
export const BUNDLING_DEFAULTS: Readonly<BundlingOptions> = {
  minify: true,
  mainFields: ['module', 'main'],
  keepNames: true,
  sourceMap: false,
  format: OutputFormat.CJS,
  bundleAwsSDK: true,
  externalModules: [],
};
