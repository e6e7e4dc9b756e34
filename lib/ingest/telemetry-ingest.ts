import { Aws, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnPolicy, CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct, type IConstruct } from 'constructs';
import { consumerVisibilityTimeoutSeconds, SQS_MAX_VISIBILITY_TIMEOUT_SECONDS } from '../../contracts/limits';
import { FAILURE_QUEUE_DEFAULTS, QUEUE_DEFAULTS } from '../core/defaults';
import {
  inRange,
  isResolved,
  knownAtSynth,
  knownSeconds,
  type ValidationRule,
  validateProps,
} from '../core/validation';
import { buildRuleSql, deviceTopic } from './rule-sql';

/** IoT's policy variable for the connected thing's name. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: an IoT policy variable, resolved by IoT Core, not by JavaScript
const THING_NAME = '${iot:Connection.Thing.ThingName}';

/**
 * AWS IoT Core refuses a policy document over 2,048 characters, whitespace excluded ("AWS IoT Core endpoints and
 * quotas" → AWS IoT Core policy limits, https://docs.aws.amazon.com/general/latest/gr/iot-core.html).
 */
export const IOT_POLICY_MAX_CHARACTERS = 2_048;

/**
 * AWS IoT Core attaches at most 10 policies to one certificate ("AWS IoT Core endpoints and quotas" → AWS IoT Core
 * policy limits: "Maximum number of policies that can be attached to a certificate or Amazon Cognito identity", 10,
 * https://docs.aws.amazon.com/general/latest/gr/iot-core.html). The device policies must fit in that, and a
 * certificate that already holds other policies (fleet provisioning, by hand) has fewer left.
 */
export const IOT_POLICIES_PER_CERTIFICATE_MAX = 10;

/**
 * Stands in for partition, region and account when the template is environment-agnostic: the longest partition
 * name (`aws-us-gov`), a region name longer than any AWS lists (the longest in aws-cdk-lib's region-info is `us-isof-south-1`, 15 characters), a 12-digit account.
 */
const WORST_CASE_ENVIRONMENT = { partition: 'aws-us-gov', region: 'ap-southeast-99x', account: '123456789012' };

/** Properties of a `TelemetryIngest`. */
export interface TelemetryIngestProps {
  /** MQTT topic filters to route, one IoT rule each; the single `+` level is the device id. */
  readonly topicFilters: readonly string[];
  /** Rule names are `<ruleNamePrefix>_<n>` (n from 1): letters, digits and `_`. */
  readonly ruleNamePrefix: string;
  /** Timeout of the function consuming the queue; the visibility timeout is derived from it. */
  readonly consumerTimeout: Duration;
  /** Batching window of the consumer's event source. @default Duration.seconds(0) */
  readonly consumerBatchingWindow?: Duration;
  /** Deliveries before a message moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** How long the ingest queue keeps a message. @default Duration.days(4) */
  readonly retentionPeriod?: Duration;
}

/** What a device needs to know to publish into one rule. */
export interface DeviceTopics {
  /** The IoT rule routing the filter (`<ruleNamePrefix>_<n>`). */
  readonly ruleName: string;
  /** The MQTT topic filter the rule selects, its `+` level the device id. */
  readonly topicFilter: string;
  /** The topic a device publishes to, with `<thingName>` for its own name. */
  readonly topic: string;
  /** The same through Basic Ingest (no IoT messaging charge; no other subscriber sees it). */
  readonly basicIngestTopic: string;
}

/**
 * Stage 1, ingest: IoT topic rules enrich each device message and send it to an SQS queue.
 *
 * - Queue and dead-letter queue: encrypted, TLS only; visibility timeout = 6 × consumer timeout + batching window
 *   (AWS's guidance for Lambda event sources, so a retried batch never overlaps a running one).
 * - Every rule has an error action into an error queue: without it, a failed rule action is silent.
 * - The rules' role may only send to those two queues (grants, no hand-written policy).
 * - A device policy: connect as your thing name (thing attached), publish only to your own topics.
 */
export class TelemetryIngest extends Construct {
  /** Where enriched messages wait for the forwarder. */
  public readonly queue: Queue;
  /** Messages the forwarder gave up on: invalid ones (with reason attributes) and those past maxReceiveCount. */
  public readonly deadLetterQueue: Queue;
  /** IoT rule error action target: messages the rule could not deliver to the queue. */
  public readonly errorQueue: Queue;
  /** The IoT topic rules, one per topic filter, in the order of the filters. */
  public readonly rules: readonly CfnTopicRule[];
  /** The role the rules act with: it may send to the ingest and error queues only. */
  public readonly ruleRole: Role;
  /**
   * Attach every one of them to each device certificate: the device's permissions, split so that each policy stays
   * within IoT's 2,048 characters. The first also allows `iot:Connect`.
   */
  public readonly devicePolicies: readonly CfnPolicy[];
  /** The first of `devicePolicies` (connect, and the first topics). */
  public readonly devicePolicy: CfnPolicy;
  /** What a device needs to know to publish into each rule, in the order of the filters. */
  public readonly deviceTopics: readonly DeviceTopics[];
  /** The ingest queue's visibility timeout: 6 × the consumer's timeout + its batching window. */
  public readonly visibilityTimeout: Duration;

  public constructor(scope: Construct, id: string, props: TelemetryIngestProps) {
    super(scope, id);
    validateProps(this, TelemetryIngest.name, props, TELEMETRY_INGEST_RULES);
    this.deviceTopics = deviceTopicsOf(props);

    const batchingWindow = props.consumerBatchingWindow ?? Duration.seconds(0);
    this.visibilityTimeout = Duration.seconds(
      consumerVisibilityTimeoutSeconds(props.consumerTimeout.toSeconds(), batchingWindow.toSeconds()),
    );

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', FAILURE_QUEUE_DEFAULTS);
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This is the dead-letter queue of the ingest queue: the end of the redrive chain. Operators inspect and redrive it with the CLI; messages stay 14 days.',
    });
    this.queue = new Queue(this, 'Queue', {
      ...QUEUE_DEFAULTS,
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    this.errorQueue = new Queue(this, 'ErrorQueue', FAILURE_QUEUE_DEFAULTS);
    Validations.of(this.errorQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'The error queue receives what the IoT rule could not deliver and is read by operators, not by a consumer that could fail: there is nothing to redrive from it automatically.',
    });
    Validations.of(this.errorQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'The error queue is itself a terminal failure store: the IoT rule error action writes there and operators inspect and redrive it with the CLI. A DLQ behind it would only hide failures one level deeper.',
    });

    this.ruleRole = new Role(this, 'RuleRole', {
      assumedBy: new ServicePrincipal('iot.amazonaws.com'),
      description: 'Lets the telemetry IoT rules send to the ingest and error queues',
    });
    this.queue.grantSendMessages(this.ruleRole);
    this.errorQueue.grantSendMessages(this.ruleRole);

    this.rules = this.deviceTopics.map(
      ({ ruleName, topicFilter }, index) =>
        new CfnTopicRule(this, `Rule${index + 1}`, {
          ruleName,
          topicRulePayload: {
            description: `Enriches telemetry on ${topicFilter} and routes it to the ingest queue`,
            sql: buildRuleSql(topicFilter),
            awsIotSqlVersion: '2016-03-23',
            ruleDisabled: false,
            actions: [{ sqs: { queueUrl: this.queue.queueUrl, roleArn: this.ruleRole.roleArn, useBase64: false } }],
            errorAction: {
              sqs: { queueUrl: this.errorQueue.queueUrl, roleArn: this.ruleRole.roleArn, useBase64: false },
            },
          },
        }),
    );
    for (const rule of this.rules) rule.node.addDependency(this.ruleRole);

    // The split is decided on the sizes IoT will count (measurePrefix), then built with the deploy-time ARN prefix
    const groups = devicePolicyGroups(measurePrefix(this), this.deviceTopics);
    const arnPrefix = `arn:${Aws.PARTITION}:iot:${Aws.REGION}:${Aws.ACCOUNT_ID}`;
    this.devicePolicies = groups.map(
      (resources, index) =>
        // The first keeps its original logical id, so an existing stack's policy (and its attachments) stays
        new CfnPolicy(this, index === 0 ? 'DevicePolicy' : `DevicePolicy${index + 1}`, {
          policyDocument: devicePolicyDocument(arnPrefix, resources, index === 0),
        }),
    );
    this.devicePolicy = this.devicePolicies[0] as CfnPolicy;
  }
}

/** The publish resources of the device topics, without the ARN prefix: each topic and its Basic Ingest topic. */
function publishResources(deviceTopics: readonly DeviceTopics[]): string[] {
  return deviceTopics.flatMap(({ ruleName, topicFilter }) => {
    const own = deviceTopic(topicFilter, THING_NAME);
    return [`topic/${own}`, `topic/$aws/rules/${ruleName}/${own}`];
  });
}

/**
 * Connect as your own thing name (thing attached, first policy only); publish only to the given resources (suffixes
 * of `<arnPrefix>:`), your own topics, directly or by Basic Ingest.
 */
function devicePolicyDocument(arnPrefix: string, resources: readonly string[], connect: boolean) {
  return {
    Version: '2012-10-17',
    Statement: [
      ...(connect
        ? [
            {
              Effect: 'Allow',
              Action: 'iot:Connect',
              Resource: `${arnPrefix}:client/${THING_NAME}`,
              Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
            },
          ]
        : []),
      ...(resources.length > 0
        ? [{ Effect: 'Allow', Action: 'iot:Publish', Resource: resources.map((r) => `${arnPrefix}:${r}`) }]
        : []),
    ],
  };
}

/**
 * The publish resources split into policies of at most 2,048 characters as IoT counts them (compact JSON with
 * `measurePrefix`): filled in order, a new policy when the next resource would not fit. Each filter's two
 * resources may land in different policies; a device holds all of them.
 */
function devicePolicyGroups(prefix: string, deviceTopics: readonly DeviceTopics[]): string[][] {
  const size = (resources: readonly string[], first: boolean) =>
    JSON.stringify(devicePolicyDocument(prefix, resources, first)).length;
  const groups: string[][] = [[]];
  for (const resource of publishResources(deviceTopics)) {
    const current = groups.at(-1) as string[];
    if (current.length > 0 && size([...current, resource], groups.length === 1) > IOT_POLICY_MAX_CHARACTERS)
      groups.push([resource]);
    else current.push(resource);
  }
  return groups;
}

/**
 * The ARN prefix IoT will see, for measuring: this stack's partition, region and account, or the longest ones when
 * they are left to deploy time.
 */
function measurePrefix(scope: IConstruct): string {
  const stack = Stack.of(scope);
  const known = (value: string, fallback: string) => (Token.isUnresolved(value) ? fallback : value);
  const env = WORST_CASE_ENVIRONMENT;
  const region = known(stack.region, env.region);
  const partition = Token.isUnresolved(stack.region)
    ? env.partition
    : (RegionInfo.get(region).partition ?? env.partition);
  return `arn:${partition}:iot:${region}:${known(stack.account, env.account)}`;
}

/**
 * Whether the device policies fit IoT: each at most 2,048 characters (a single resource too long for one policy is
 * reported), and no more policies than IoT attaches to one certificate. Each topic filter adds two resources (its
 * topic and its Basic Ingest topic): a policy that keeps every device to its own topics cannot use wildcards.
 */
function devicePolicyProblems(scope: IConstruct, deviceTopics: readonly DeviceTopics[]): string[] {
  const prefix = measurePrefix(scope);
  const groups = devicePolicyGroups(prefix, deviceTopics);
  const problems: string[] = [];
  groups.forEach((resources, index) => {
    const size = JSON.stringify(devicePolicyDocument(prefix, resources, index === 0)).length;
    if (size > IOT_POLICY_MAX_CHARACTERS)
      problems.push(
        `topicFilters: device policy ${index + 1} would be ${size} characters (whitespace excluded) with a single topic; AWS IoT allows ${IOT_POLICY_MAX_CHARACTERS}: use a shorter topic filter or iot.ruleNamePrefix`,
      );
  });
  if (groups.length > IOT_POLICIES_PER_CERTIFICATE_MAX)
    problems.push(
      `topicFilters: the device permissions need ${groups.length} IoT policies of at most ${IOT_POLICY_MAX_CHARACTERS} characters; AWS IoT attaches at most ${IOT_POLICIES_PER_CERTIFICATE_MAX} to a certificate: use fewer or shorter topic filters, or a shorter iot.ruleNamePrefix (each filter appears twice, as its topic and its Basic Ingest topic)`,
    );
  return problems;
}

/** Rule `<ruleNamePrefix>_<n>` per topic filter, with the topics a device publishes to. */
function deviceTopicsOf(props: TelemetryIngestProps): DeviceTopics[] {
  return props.topicFilters.map((topicFilter, index) => {
    const ruleName = `${props.ruleNamePrefix}_${index + 1}`;
    const topic = deviceTopic(topicFilter, '<thingName>');
    return { ruleName, topicFilter, topic, basicIngestTopic: `$aws/rules/${ruleName}/${topic}` };
  });
}

/**
 * What the ingest stage needs: filters with exactly one `+` level (the device id, which the rule SQL and the device
 * policy take from that level) and no `#`; IoT rule names of letters, digits and `_` (AWS IoT API Reference,
 * TopicRuleListItem → ruleName, pattern `^[a-zA-Z0-9_]+$`, 1–128,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_TopicRuleListItem.html); a visibility timeout (6 ×
 * consumer timeout + batching window) within SQS's 12 hours (AWS CLI Command Reference, sqs
 * change-message-visibility: "The maximum is 12 hours",
 * https://docs.aws.amazon.com/cli/v1/reference/sqs/change-message-visibility.html); a
 * `maxReceiveCount` of 1–1000 (the range the config schema allows); device policies IoT accepts.
 * The filters, the prefix and the consumer's timings must be known at synth time: the rule SQL, the device topics, the
 * device policies' split and the visibility timeout are computed from them. `maxReceiveCount` may be a token.
 */
const TELEMETRY_INGEST_RULES: readonly ValidationRule<TelemetryIngestProps>[] = [
  knownAtSynth('topicFilters', (props) => props.topicFilters, 'one IoT rule and its SQL are built per filter'),
  ({ topicFilters }) =>
    Token.isUnresolved(topicFilters)
      ? []
      : topicFilters.flatMap((filter, i) =>
          Token.isUnresolved(filter)
            ? [`topicFilters[${i}]: must be known at synth time (the rule SQL and the device policy are built from it)`]
            : [],
        ),
  ({ topicFilters }) =>
    !Token.isUnresolved(topicFilters) && topicFilters.length === 0
      ? ['topicFilters: at least one topic filter is required']
      : [],
  ({ topicFilters }) =>
    Token.isUnresolved(topicFilters)
      ? []
      : topicFilters.flatMap((filter, i) =>
          isResolved(filter) &&
          (filter.split('/').filter((level) => level === '+').length !== 1 || filter.includes('#'))
            ? [`topicFilters[${i}]: "${filter}" must contain exactly one "+" (the device id) and no "#"`]
            : [],
        ),
  knownAtSynth('ruleNamePrefix', (props) => props.ruleNamePrefix, 'the device policies are sized with the rule names'),
  ({ ruleNamePrefix }) =>
    isResolved(ruleNamePrefix) && !/^[A-Za-z0-9_]+$/.test(ruleNamePrefix)
      ? [`ruleNamePrefix: "${ruleNamePrefix}" may only contain letters, digits and "_"`]
      : [],
  knownAtSynth('consumerTimeout', (props) => props.consumerTimeout, 'the visibility timeout is computed from it'),
  knownAtSynth(
    'consumerBatchingWindow',
    (props) => props.consumerBatchingWindow,
    'the visibility timeout is computed from it',
  ),
  ({ consumerTimeout, consumerBatchingWindow }) => {
    const timeout = knownSeconds(consumerTimeout);
    const window = consumerBatchingWindow ? knownSeconds(consumerBatchingWindow) : 0;
    if (
      timeout === undefined ||
      window === undefined ||
      consumerVisibilityTimeoutSeconds(timeout, window) <= SQS_MAX_VISIBILITY_TIMEOUT_SECONDS
    )
      return [];
    return [`consumerTimeout: 6 × ${timeout} s exceeds the 12-hour SQS visibility limit`];
  },
  inRange('maxReceiveCount', (props) => props.maxReceiveCount, 1, 1_000),
  (props, scope) => {
    const known =
      !Token.isUnresolved(props.topicFilters) &&
      props.topicFilters.every((filter) => isResolved(filter)) &&
      isResolved(props.ruleNamePrefix);
    return known ? devicePolicyProblems(scope, deviceTopicsOf(props)) : [];
  },
];
