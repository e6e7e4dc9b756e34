import { type Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { type DimensionsMap, Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type {
  EventSourceMapping,
  EventSourceMappingOptions,
  FunctionOptions,
  IEventSource,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { functionEnvironment } from '../../contracts/environment';
import { PIPELINE_DIMENSION, SERVICE_DIMENSION } from '../../contracts/metrics';
import { BUNDLING_DEFAULTS, FUNCTION_DEFAULTS } from './defaults';

/** Properties of a `PipelineFunction`: what differs between the pipeline's functions. */
export interface PipelineFunctionProps {
  /** Path of the handler module (`export const handler`). */
  readonly entry: string;
  /** Powertools service name: the `service` of every log line and the `service` dimension of every EMF metric. */
  readonly serviceName: string;
  /** CloudWatch namespace of the function's EMF metrics. */
  readonly metricsNamespace: string;
  /** Memory in MB. */
  readonly memorySize: number;
  /** How long one invocation may run. */
  readonly timeout: Duration;
  /** How long the function's log group keeps events. */
  readonly logRetention: RetentionDays;
  /**
   * The function's own variables (`forwarderEnvironment`, `sinkEnvironment` in `contracts/environment.ts`), next to
   * the Powertools and pipeline ones it always gets; never secrets (pass secret ids and read them at run time).
   * @default none beyond those
   */
  readonly environment?: Record<string, string>;
  /** The function's description in the Lambda console. @default no description */
  readonly description?: string;
  /** Modules esbuild leaves out (optional dependencies the code never loads). @default none */
  readonly externalModules?: string[];
  /** Run in a VPC (for private or IP-restricted backends). @default no VPC */
  readonly network?: Pick<FunctionOptions, 'vpc' | 'vpcSubnets' | 'securityGroups'>;
}

/**
 * A NodejsFunction with the pipeline's defaults: its own role (no managed policies; log writing granted on its own
 * log group only), an explicit log group with retention, Powertools settings, and the bundling in `defaults.ts`.
 * In a VPC, the role also gets the network-interface permissions Lambda needs (CDK adds those only to roles it
 * creates itself).
 *
 * Its EMF metrics carry two dimensions, `service` (the service name) and `pipeline` (the stack name, so two
 * pipelines in one account never mix); `metricEmf` builds a CloudWatch metric with exactly those.
 */
export class PipelineFunction extends NodejsFunction {
  /** CloudWatch namespace of the function's EMF metrics. */
  public readonly metricsNamespace: string;
  /** The dimensions every EMF metric of this function is published with. */
  public readonly metricDimensions: Readonly<DimensionsMap>;
  /** Every event source mapping created on this function, in order (see `addEventSourceWithMapping`). */
  private readonly eventSourceMappings: EventSourceMapping[] = [];

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
        ...functionEnvironment({
          serviceName: props.serviceName,
          metricsNamespace: props.metricsNamespace,
          logLevel: 'INFO',
          pipelineName,
        }),
        ...props.environment,
      },
    });
    this.metricsNamespace = props.metricsNamespace;
    this.metricDimensions = { [SERVICE_DIMENSION]: props.serviceName, [PIPELINE_DIMENSION]: pipelineName };
    logGroup.grantWrite(role);
    if (props.network) allowNetworkInterfaces(role, props.network);
    Validations.of(this).acknowledge({
      id: 'Serverless-LambdaTracing',
      reason:
        'No active X-Ray tracing, by decision (docs/cost-and-scale.md, "Tracing"): Lambda does not trace functions behind a self-managed Kafka event source mapping (the sink), and for the forwarder the traces would hold only Lambda\'s own segments, kafkajs being uninstrumented, which its EMF metrics, the Lambda metrics and the logs already show.',
    });
  }

  /** Creates an event source mapping, as `Function` does, and keeps it for `addEventSourceWithMapping`. */
  public override addEventSourceMapping(id: string, options: EventSourceMappingOptions): EventSourceMapping {
    const mapping = super.addEventSourceMapping(id, options);
    this.eventSourceMappings.push(mapping);
    return mapping;
  }

  /**
   * Adds an event source and returns the event source mapping it created. aws-cdk-lib's sources do not all hand
   * it back (`SelfManagedKafkaEventSource` keeps neither the mapping nor its id), but every one creates it through
   * the function's `addEventSourceMapping`, which keeps it here: no search through the construct tree.
   */
  public addEventSourceWithMapping(source: IEventSource): EventSourceMapping {
    const before = this.eventSourceMappings.length;
    this.addEventSource(source);
    const created = this.eventSourceMappings.slice(before);
    const [mapping] = created;
    if (created.length !== 1 || !mapping)
      throw new Error(`${this.node.path}: the event source created ${created.length} event source mappings, not 1`);
    return mapping;
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

/**
 * What Lambda does with a VPC function's execution role: create, describe and delete the function's network
 * interfaces and manage their addresses. The actions are those of the AWS managed policy
 * AWSLambdaVPCAccessExecutionRole
 * (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html); the
 * scoping follows the Lambda Developer Guide, "Giving Lambda functions access to resources in an Amazon VPC" →
 * required permissions (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html): the Describe actions
 * work only on "*", and DeleteNetworkInterface must cover every interface id the function may get (they are not
 * known before Lambda creates them). CreateNetworkInterface authorizes the interface, the subnet and the security
 * groups (Service Authorization Reference, "Actions defined by Amazon EC2",
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html): only the configured ones.
 */
function allowNetworkInterfaces(role: Role, network: NonNullable<PipelineFunctionProps['network']>): void {
  const stack = Stack.of(role);
  const ec2 = (resource: string, resourceName: string, account?: string) =>
    stack.formatArn({ service: 'ec2', resource, resourceName, ...(account ? { account } : {}) });
  const interfaces = ec2('network-interface', '*');
  // A subnet may be shared from another account (AWS RAM, VPC sharing): its ARN then carries the owner's account,
  // not this stack's, and an ARN with the stack's account would not match it. Subnet ids are unique across
  // accounts, so `*` for the account still allows only the configured subnets ("Share your VPC subnets with other
  // accounts", https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html).
  const subnet = (subnetId: string) => ec2('subnet', subnetId, '*');
  role.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], resources: ['*'] }),
  );
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Only ec2:DescribeNetworkInterfaces / ec2:DescribeSubnets for the VPC: EC2 supports no resource-level permissions for these actions (Lambda documents that DescribeNetworkInterfaces works only on "*"). Every other statement is scoped.',
  });
  role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['ec2:CreateNetworkInterface'],
      resources: [
        interfaces,
        ...(network.vpcSubnets?.subnets ?? []).map(({ subnetId }) => subnet(subnetId)),
        ...(network.securityGroups ?? []).map((group) => ec2('security-group', group.securityGroupId)),
      ],
    }),
  );
  role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: [interfaces],
    }),
  );
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]',
    reason:
      "Lambda creates and deletes the function's network interfaces with this role; their ids do not exist before Lambda creates them, and the Lambda Developer Guide requires DeleteNetworkInterface on every interface the function may get. Scoped to network interfaces of this account and region; subnets and security groups are the configured ones.",
  });
  for (const { subnetId } of network.vpcSubnets?.subnets ?? [])
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:subnet/${subnetId}]`,
      reason:
        'One configured subnet, by id: the account is a wildcard because a subnet shared through AWS RAM belongs to its owner account, not this one, and subnet ids are unique, so no other subnet matches.',
    });
}
