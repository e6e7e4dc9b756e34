import { type Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { FunctionOptions } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BUNDLING_DEFAULTS, FUNCTION_DEFAULTS } from './defaults';

export interface PipelineFunctionProps {
  /** Path of the handler module (`export const handler`). */
  readonly entry: string;
  /** Powertools service name: the `service` of every log line and metric dimension. */
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
 */
export class PipelineFunction extends NodejsFunction {
  public constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
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
        ...props.environment,
      },
    });
    logGroup.grantWrite(role);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only the X-Ray statement that active tracing adds (xray:PutTraceSegments, xray:PutTelemetryRecords): X-Ray supports no resource-level permissions for these actions. Every other statement is scoped by grants.',
    });
  }
}
