import { type Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { type DimensionsMap, Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { FunctionOptions } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { PIPELINE_DIMENSION, PIPELINE_NAME_VARIABLE } from '../../lambdas/shared/observability';
import { BUNDLING_DEFAULTS, FUNCTION_DEFAULTS } from './defaults';

export interface PipelineFunctionProps {
  /** Path of the handler module (`export const handler`). */
  readonly entry: string;
  /** Powertools service name: the `service` of every log line and the `service` dimension of every EMF metric. */
  readonly serviceName: string;
  /** CloudWatch namespace of the function's EMF metrics. */
  readonly metricsNamespace: string;
  /** Memory in MB. */
  readonly memorySize: number;
  readonly timeout: Duration;
  /** How long the function's log group keeps events. */
  readonly logRetention: RetentionDays;
  /** Variables for the function; never secrets (pass secret ids and read them at run time). */
  readonly environment?: Record<string, string>;
  /** @default the construct path */
  readonly description?: string;
  /** Modules esbuild leaves out (optional dependencies the code never loads). @default none */
  readonly externalModules?: string[];
  /** Run in a VPC (for private or IP-restricted backends). @default no VPC */
  readonly network?: Pick<FunctionOptions, 'vpc' | 'vpcSubnets' | 'securityGroups'>;
}

/**
 * A NodejsFunction with the pipeline's defaults: its own role (no managed policies; log writing granted on its own
 * log group only), an explicit log group with retention, Powertools settings, and the bundling in `defaults.ts`.
 *
 * Its EMF metrics carry two dimensions, `service` (the service name) and `pipeline` (the stack name, so two
 * pipelines in one account never mix); `metricEmf` builds a CloudWatch metric with exactly those.
 */
export class PipelineFunction extends NodejsFunction {
  /** CloudWatch namespace of the function's EMF metrics. */
  public readonly metricsNamespace: string;
  /** The dimensions every EMF metric of this function is published with. */
  public readonly metricDimensions: Readonly<DimensionsMap>;

  public constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    const pipelineName = Stack.of(scope).stackName;
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${Stack.of(scope).stackName}/${id}`,
    });
    super(scope, id, {
      ...FUNCTION_DEFAULTS,
      entry: props.entry,
      handler: 'handler',
      role,
      logGroup,
      memorySize: props.memorySize,
      timeout: props.timeout,
      description: props.description,
      bundling: { ...BUNDLING_DEFAULTS, externalModules: [...(props.externalModules ?? [])] },
      ...props.network,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        [PIPELINE_NAME_VARIABLE]: pipelineName,
        ...props.environment,
      },
    });
    this.metricsNamespace = props.metricsNamespace;
    this.metricDimensions = { service: props.serviceName, [PIPELINE_DIMENSION]: pipelineName };
    logGroup.grantWrite(role);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only the X-Ray statement that active tracing adds (xray:PutTraceSegments, xray:PutTelemetryRecords): X-Ray supports no resource-level permissions for these actions. Every other statement is scoped by grants.',
    });
  }

  /** One of the function's EMF metrics (a name from `ForwarderMetric` or `SinkMetric`), with its exact dimensions. */
  public metricEmf(metricName: string, props: MetricOptions = {}): Metric {
    return new Metric({
      namespace: this.metricsNamespace,
      metricName,
      dimensionsMap: { ...this.metricDimensions },
      ...props,
    });
  }
}
