/**
 * Every configuration variant, synthesized and held to AWS's own rules: cdk-nag, an access matrix decided by an
 * independent IAM engine over the synthesized identity, resource and key policies together, the device policy with
 * IoT's policy variables substituted, and the documented limits. A defect in any variant turns its row red.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { devicePolicyOutput } from '../../lib/ingest/rule-sql';
import { type AccessRequest, type Decision, decide } from '../helpers/access';
import { policyForConnection } from '../helpers/iot-policy';
import { synthStack } from '../helpers/synth';
import { type PolicyDocument, TemplatePolicies } from '../helpers/template-policies';
import { LONGEST_RULE_NAME_PREFIX, LONGEST_TOPIC_FILTERS, VARIANTS } from '../helpers/variants';

type Synth = ReturnType<typeof synthStack>;
type Construct = { node: { defaultChild?: unknown } };

/** AWS's documented limits, each with its source. */
const LIMITS = {
  /** "AWS IoT Core endpoints and quotas" (https://docs.aws.amazon.com/general/latest/gr/iot-core.html): policy document, 2,048 characters without whitespace. */
  iotPolicyCharacters: 2_048,
  /** Same page, AWS IoT Core policy limits: "Maximum number of policies that can be attached to a certificate or Amazon Cognito identity", 10. */
  iotPoliciesPerCertificate: 10,
  /** "IAM and AWS STS quotas" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): a role's inline policies together, 10,240 characters (whitespace not counted). */
  roleInlinePolicyCharacters: 10_240,
  /** Same page: a customer managed policy, 6,144 characters. */
  managedPolicyCharacters: 6_144,
  /** Same page: role trust policy, 2,048 characters by default. */
  trustPolicyCharacters: 2_048,
  /** "Amazon SQS policy quotas" (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-policies.html). */
  sqsPolicy: { bytes: 8_192, statements: 20, actionsPerStatement: 7, conditions: 10 },
  /** "Amazon SNS API permissions: Actions and resources reference" → policy quotas (https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html). */
  snsPolicy: { bytes: 30 * 1_024, statements: 100 },
  /** "AWS KMS quotas" → key policy document size (https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html). */
  keyPolicyBytes: 32 * 1_024,
  /** "Lambda quotas" → environment variables, 4 KB in aggregate (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
  lambdaEnvironmentBytes: 4 * 1_024,
  /** AWS::Lambda::Function Description, 256 characters (CloudFormation template reference). */
  lambdaDescription: 256,
  /** IoT CreateTopicRule ruleName: ^[a-zA-Z0-9_]+$, 1–128 (AWS IoT API Reference). */
  ruleName: /^[a-zA-Z0-9_]{1,128}$/,
  /** CloudWatch PutMetricAlarm AlarmName, 1–255 (Amazon CloudWatch API Reference). */
  alarmName: 255,
  /** CloudWatch PutDashboard DashboardName: A–Z, a–z, 0–9, "-", "_", up to 255 (Amazon CloudWatch API Reference). */
  dashboardName: /^[A-Za-z0-9_-]{1,255}$/,
  /** Lambda SelfManagedKafkaEventSourceConfig ConsumerGroupId, 1–200 (AWS Lambda API Reference). */
  consumerGroupId: 200,
  /** CloudFormation stack name, 128 characters ("AWS CloudFormation quotas"). */
  stackName: 128,
} as const;

const OUTSIDER = 'arn:aws:iam::444455556666:role/outsider';
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

describe.each(VARIANTS)('$name', ({ overrides }) => {
  let synth: Synth;
  let policies: TemplatePolicies;
  let arn: (construct: Construct) => string;
  let roleOf: (fn: { role?: Construct }) => string;

  beforeAll(() => {
    synth = synthStack(overrides);
    const { config, stack } = synth;
    const env = config.account && config.region ? { account: config.account, region: config.region } : {};
    policies = new TemplatePolicies(synth.template.toJSON() as never, stack.stackName, env);
    arn = (construct) => policies.arnOf(stack.getLogicalId(construct.node.defaultChild as never));
    roleOf = (fn) => arn(fn.role as Construct);
  });

  /** The ARN Secrets Manager gives an imported or created secret (a name gets its random suffix appended). */
  const secretArnOf = (secret: { secretArn: string }, importedByName: boolean) => {
    const resolved = String(policies.resolve(synth.stack.resolve(secret.secretArn)));
    return importedByName ? `${resolved}-Q1w2E3` : resolved;
  };
  const edges = () => {
    const { stack, config } = synth;
    const forwarder = roleOf(stack.forwarder.function);
    const sink = roleOf(stack.sink.function);
    const ruleRole = arn(stack.ingest.ruleRole);
    const queue = arn(stack.ingest.queue);
    const dlq = arn(stack.ingest.deadLetterQueue);
    const errorQueue = arn(stack.ingest.errorQueue);
    const confluent = secretArnOf(stack.forwarder.credentialsSecret, config.kafka.credentialsSecretName !== undefined);
    const atlas = secretArnOf(stack.sink.mongoUriSecret, config.sink.mongo.uriSecretName !== undefined);
    const keys = [config.kafka.credentialsSecretKmsKeyArn, config.sink.mongo.uriSecretKmsKeyArn];
    const viaSecretsManager = { 'kms:ViaService': `secretsmanager.${policies.env.region}.amazonaws.com` };
    return { forwarder, sink, ruleRole, queue, dlq, errorQueue, confluent, atlas, keys, viaSecretsManager };
  };
  const expectAll = async (requests: readonly (AccessRequest & { expected: Decision | 'Denied' })[]) => {
    const failures: string[] = [];
    for (const { expected, ...request } of requests) {
      const decision = await decide(policies, request);
      const ok = expected === 'Denied' ? decision !== 'Allowed' : decision === expected;
      if (!ok)
        failures.push(
          `${request.principal} ${request.action} ${request.resource} ${JSON.stringify(request.context ?? {})}: ${decision}, expected ${expected}`,
        );
    }
    expect(failures).toEqual([]);
  };

  it('synthesizes and passes cdk-nag (AwsSolutions, Serverless)', () => {
    // Given the variant's stack (built above)
    // When its app is synthesized under cdk-nag's packs, Then nothing is thrown
    expect(() => synth.app.synth()).not.toThrow();
  });

  it('traces no function with X-Ray and grants no xray: action (docs/cost-and-scale.md, "Tracing")', () => {
    // Given the variant's stack: active tracing is off by decision, so its wildcard X-Ray statement must be gone too
    // (Lambda cannot trace a function behind a self-managed Kafka event source: "Visualize Lambda function
    // invocations using AWS X-Ray", https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html)
    // When its functions and every identity policy are read
    const functions = policies.logicalIdsOf('AWS::Lambda::Function');
    const actions = policies
      .allIdentityPolicyDocuments()
      .flatMap(({ policy }) => policy.Statement.flatMap((statement) => [statement.Action ?? []].flat()));
    // Then no function has a TracingConfig and no statement allows an X-Ray write
    expect(functions.length).toBeGreaterThanOrEqual(2);
    expect(functions.filter((id) => policies.properties(id).TracingConfig !== undefined)).toEqual([]);
    expect(actions.filter((action) => String(action).startsWith('xray:'))).toEqual([]);
  });

  it('allows every edge the pipeline needs', async () => {
    // Given the variant's roles, queues, secrets, keys and alarm topic, and every edge the pipeline needs between them
    const e = edges();
    const { stack, config } = synth;
    const allowed = (principal: string, action: string, resource: string, context?: Record<string, string>) => ({
      principal,
      action,
      resource,
      context,
      expected: 'Allowed' as const,
    });
    const requests = [
      // the services may assume the roles (trust policies)
      {
        ...allowed('iot.amazonaws.com', 'sts:AssumeRole', e.ruleRole),
        resourcePolicy: policies.trustPolicy(e.ruleRole),
      },
      ...[e.forwarder, e.sink].map((role) => ({
        ...allowed('lambda.amazonaws.com', 'sts:AssumeRole', role),
        resourcePolicy: policies.trustPolicy(role),
      })),
      // IoT rule → ingest queue, and its error action → error queue: the SQS rule action needs sqs:SendMessage
      // (AWS IoT Core Developer Guide, "SQS" rule action, https://docs.aws.amazon.com/iot/latest/developerguide/sqs-rule-action.html)
      allowed(e.ruleRole, 'sqs:SendMessage', e.queue),
      allowed(e.ruleRole, 'sqs:SendMessage', e.errorQueue),
      // the forwarder's SQS event source polls with the function's role (AWS Lambda Developer Guide, "Using Lambda
      // with Amazon SQS" → execution role permissions, https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html);
      // invalid records go to the DLQ
      ...['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'].map((a) =>
        allowed(e.forwarder, a, e.queue),
      ),
      allowed(e.forwarder, 'sqs:SendMessage', e.dlq),
      allowed(e.forwarder, 'secretsmanager:GetSecretValue', e.confluent),
      // the sink reads its Atlas secret; its Kafka event source reads the Confluent secret with the same role, and
      // kms:Decrypt for a customer-managed key (AWS Lambda Developer Guide, self-managed Kafka execution role
      // permissions, https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-permissions.html)
      allowed(e.sink, 'secretsmanager:GetSecretValue', e.atlas),
      allowed(e.sink, 'secretsmanager:GetSecretValue', e.confluent),
      ...(e.keys[0]
        ? [e.forwarder, e.sink].map((role) => allowed(role, 'kms:Decrypt', e.keys[0] ?? '', e.viaSecretsManager))
        : []),
      ...(e.keys[1] ? [allowed(e.sink, 'kms:Decrypt', e.keys[1], e.viaSecretsManager)] : []),
    ];
    // CloudWatch → the alarm topic and its key, for every alarm that notifies the topic
    const topic = arn(stack.alarmTopic.topic);
    const key = arn(stack.alarmTopic.key);
    const alarms = policies
      .logicalIdsOf('AWS::CloudWatch::Alarm')
      .filter((id) => JSON.stringify(policies.properties(id).AlarmActions ?? []).includes(topic))
      .map((id) => policies.arnOf(id));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      const context = { 'aws:SourceArn': alarm, 'aws:SourceAccount': policies.env.account };
      requests.push(allowed('cloudwatch.amazonaws.com', 'sns:Publish', topic, context));
      requests.push(allowed('cloudwatch.amazonaws.com', 'kms:GenerateDataKey', key, context));
      requests.push(allowed('cloudwatch.amazonaws.com', 'kms:Decrypt', key, context));
    }
    // Lambda manages the sink's network interfaces with its role when it runs in a VPC
    const { network } = config.sink;
    if (network) {
      const ec2 = (resource: string) => `arn:aws:ec2:${policies.env.region}:${policies.env.account}:${resource}`;
      requests.push(allowed(e.sink, 'ec2:DescribeNetworkInterfaces', '*'));
      requests.push(allowed(e.sink, 'ec2:CreateNetworkInterface', ec2('network-interface/*')));
      for (const subnet of network.subnetIds)
        requests.push(allowed(e.sink, 'ec2:CreateNetworkInterface', ec2(`subnet/${subnet}`)));
      for (const group of network.securityGroupIds)
        requests.push(allowed(e.sink, 'ec2:CreateNetworkInterface', ec2(`security-group/${group}`)));
      requests.push(allowed(e.sink, 'ec2:DeleteNetworkInterface', ec2('network-interface/eni-0123456789abcdef0')));
    }
    // When the IAM engine decides each request, Then each is allowed
    await expectAll(requests);
  });

  it('denies the edges that must not exist', async () => {
    // Given the variant's roles, queues, secrets, keys and alarm topic, and edges that must not exist
    const e = edges();
    const { stack } = synth;
    const denied = (principal: string, action: string, resource: string, context?: Record<string, string>) => ({
      principal,
      action,
      resource,
      context,
      expected: 'Denied' as const,
    });
    const plain = { 'aws:SecureTransport': 'false' };
    const topic = arn(stack.alarmTopic.topic);
    const ec2 = `arn:aws:ec2:${policies.env.region}:${policies.env.account}:network-interface/*`;
    // When the IAM engine decides each request, Then none is allowed, and plain-text access is denied explicitly
    await expectAll([
      // the forwarder never reads the Atlas secret; the sink never writes the ingest queue
      denied(e.forwarder, 'secretsmanager:GetSecretValue', e.atlas),
      denied(e.sink, 'sqs:SendMessage', e.queue),
      denied(e.sink, 'sqs:SendMessage', e.dlq),
      // the rule role only sends; the forwarder gets no network interfaces
      denied(e.ruleRole, 'sqs:ReceiveMessage', e.queue),
      denied(e.forwarder, 'ec2:CreateNetworkInterface', ec2),
      ...(synth.config.sink.network ? [] : [denied(e.sink, 'ec2:CreateNetworkInterface', ec2)]),
      // no plain-text access, whoever asks
      { ...denied(e.ruleRole, 'sqs:SendMessage', e.queue, plain), expected: 'ExplicitlyDenied' },
      { ...denied(e.forwarder, 'sqs:SendMessage', e.dlq, plain), expected: 'ExplicitlyDenied' },
      { ...denied(e.forwarder, 'sqs:ReceiveMessage', e.queue, plain), expected: 'ExplicitlyDenied' },
      { ...denied('cloudwatch.amazonaws.com', 'sns:Publish', topic, plain), expected: 'ExplicitlyDenied' },
      // nobody outside the account, and no other account's alarms
      ...[e.queue, e.dlq, e.errorQueue].map((queue) => denied(OUTSIDER, 'sqs:SendMessage', queue)),
      denied(OUTSIDER, 'sqs:ReceiveMessage', e.queue),
      denied(OUTSIDER, 'secretsmanager:GetSecretValue', e.confluent),
      denied(OUTSIDER, 'secretsmanager:GetSecretValue', e.atlas),
      denied(OUTSIDER, 'sns:Publish', topic),
      denied(OUTSIDER, 'kms:Decrypt', arn(stack.alarmTopic.key)),
      denied('cloudwatch.amazonaws.com', 'sns:Publish', topic, {
        'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:444455556666:alarm:x',
        'aws:SourceAccount': '444455556666',
      }),
      // nor an alarm of this account that is not this stack's (named outside its prefix): not on the topic, not on
      // its key
      ...(['sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt'] as const).map((action) =>
        denied('cloudwatch.amazonaws.com', action, action === 'sns:Publish' ? topic : arn(stack.alarmTopic.key), {
          'aws:SourceArn': `arn:aws:cloudwatch:${policies.env.region}:${policies.env.account}:alarm:OtherApp-CpuHigh`,
          'aws:SourceAccount': policies.env.account,
        }),
      ),
      // a customer-managed key of a secret decrypts only through Secrets Manager (kms:ViaService), never directly
      ...(e.keys[0] ? [e.forwarder, e.sink].map((role) => denied(role, 'kms:Decrypt', e.keys[0] ?? '')) : []),
      ...(e.keys[1] ? [denied(e.sink, 'kms:Decrypt', e.keys[1])] : []),
    ]);
  });

  it('keeps each device to its own topics (IoT policy variables substituted)', async () => {
    // Given the variant's device policies, with a device connection's policy variables substituted
    const { stack } = synth;
    // A device certificate holds every device policy of the stack: their union is what the device may do
    const documents = policies
      .logicalIdsOf('AWS::IoT::Policy')
      .map((id) => ({ id, document: policies.properties(id).PolicyDocument as PolicyDocument }));
    expect(documents).toHaveLength(stack.ingest.devicePolicies.length);
    const { account, region } = policies.env;
    const iot = (resource: string) => `arn:aws:iot:${region}:${account}:${resource}`;
    const certificate = iot('cert/0123456789abcdef');
    const as = (thingName: string, isAttached = true) =>
      documents.map(({ id, document }) => ({
        name: `device policy ${id}`,
        policy: policyForConnection(document, { thingName, isAttached }),
      }));
    const requests: (AccessRequest & { expected: Decision | 'Denied' })[] = [];
    const request = (thing: string, action: string, resource: string, expected: Decision | 'Denied', attached = true) =>
      requests.push({
        principal: certificate,
        action,
        resource,
        identityPolicies: as(thing, attached),
        resourcePolicy: null,
        expected,
      });
    request('device-1', 'iot:Connect', iot('client/device-1'), 'Allowed');
    request('device-1', 'iot:Connect', iot('client/device-2'), 'Denied');
    request('device-1', 'iot:Connect', iot('client/device-1'), 'Denied', false);
    for (const { topic, basicIngestTopic, topicFilter } of stack.ingest.deviceTopics) {
      const own = topic.replace('<thingName>', 'device-1');
      const other = topic.replace('<thingName>', 'device-2');
      request('device-1', 'iot:Publish', iot(`topic/${own}`), 'Allowed');
      request(
        'device-1',
        'iot:Publish',
        iot(`topic/${basicIngestTopic.replace('<thingName>', 'device-1')}`),
        'Allowed',
      );
      request('device-1', 'iot:Publish', iot(`topic/${other}`), 'Denied');
      request('device-1', 'iot:Publish', iot(`topic/${basicIngestTopic.replace('<thingName>', 'device-2')}`), 'Denied');
      request('device-1', 'iot:Subscribe', iot(`topicfilter/${topicFilter}`), 'Denied');
      request('device-1', 'iot:Receive', iot(`topic/${own}`), 'Denied');
    }
    request('device-1', 'iot:Publish', iot('topic/$aws/things/device-1/shadow/update'), 'Denied');
    // When the IAM engine decides each request of device-1, Then it may connect only as itself while attached, and
    // only publish, only to its own topics
    await expectAll(requests);
  });

  it('stays within every documented limit', () => {
    // Given the variant's synthesized template
    const { stack, config, template } = synth;
    const json = template.toJSON() as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const problems: string[] = [];
    const check = (what: string, value: number, limit: number) => {
      if (value > limit) problems.push(`${what}: ${value} > ${limit}`);
    };
    // When each policy, function, name and id is measured against its documented limit
    // a device certificate holds all of them (`devices provision` attaches every DevicePolicyName<n>)
    check(
      'IoT policies per certificate',
      policies.logicalIdsOf('AWS::IoT::Policy').length,
      LIMITS.iotPoliciesPerCertificate,
    );
    for (const id of policies.logicalIdsOf('AWS::IoT::Policy'))
      check(
        `IoT policy ${id}`,
        TemplatePolicies.compactLength(policies.properties(id).PolicyDocument),
        LIMITS.iotPolicyCharacters,
      );
    for (const id of policies.logicalIdsOf('AWS::IAM::Role')) {
      const roleArn = policies.arnOf(id);
      const inline = policies.identityPolicies(roleArn).filter(({ name }) => !name.startsWith('arn:'));
      check(
        `inline policies of ${id}`,
        inline.reduce((n, { policy }) => n + TemplatePolicies.compactLength(policy), 0),
        LIMITS.roleInlinePolicyCharacters,
      );
      check(
        `trust policy of ${id}`,
        TemplatePolicies.compactLength(policies.trustPolicy(roleArn)),
        LIMITS.trustPolicyCharacters,
      );
    }
    for (const { name, kind, policy } of policies.allIdentityPolicyDocuments())
      if (kind === 'managed')
        check(`managed policy ${name}`, TemplatePolicies.compactLength(policy), LIMITS.managedPolicyCharacters);
    for (const id of policies.logicalIdsOf('AWS::SQS::QueuePolicy')) {
      const document = policies.properties(id).PolicyDocument as PolicyDocument;
      check(`queue policy ${id} bytes`, bytes(document), LIMITS.sqsPolicy.bytes);
      check(`queue policy ${id} statements`, document.Statement.length, LIMITS.sqsPolicy.statements);
      for (const statement of document.Statement) {
        check(`queue policy ${id} actions`, [statement.Action].flat().length, LIMITS.sqsPolicy.actionsPerStatement);
        check(
          `queue policy ${id} conditions`,
          Object.keys(statement.Condition ?? {}).length,
          LIMITS.sqsPolicy.conditions,
        );
      }
    }
    for (const id of policies.logicalIdsOf('AWS::SNS::TopicPolicy')) {
      const document = policies.properties(id).PolicyDocument as PolicyDocument;
      check(`topic policy ${id} bytes`, bytes(document), LIMITS.snsPolicy.bytes);
      check(`topic policy ${id} statements`, document.Statement.length, LIMITS.snsPolicy.statements);
      const sids = document.Statement.map((s) => s.Sid);
      // SNS requires a unique sid per statement (same reference page)
      if (new Set(sids).size !== sids.length || sids.includes(undefined))
        problems.push(`topic policy ${id}: statement sids ${sids}`);
    }
    for (const id of policies.logicalIdsOf('AWS::KMS::Key'))
      check(`key policy ${id}`, bytes(policies.properties(id).KeyPolicy), LIMITS.keyPolicyBytes);
    for (const id of policies.logicalIdsOf('AWS::Lambda::Function')) {
      const props = policies.properties(id) as {
        Environment?: { Variables: Record<string, string> };
        Description?: string;
      };
      // Each value at its deployed size: properties() resolved the Refs (queue URLs, secret ARNs with their suffix)
      // to the values CloudFormation would pass; a value still an object would be measured as "[object Object]"
      const variables = Object.entries(props.Environment?.Variables ?? {}) as [string, unknown][];
      for (const [name, value] of variables)
        if (typeof value !== 'string')
          problems.push(`environment of ${id}: ${name} unresolved: ${JSON.stringify(value)}`);
      check(
        `environment of ${id}`,
        variables.reduce((n, [k, v]) => n + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(String(v), 'utf8'), 0),
        LIMITS.lambdaEnvironmentBytes,
      );
      check(`description of ${id}`, props.Description?.length ?? 0, LIMITS.lambdaDescription);
    }
    for (const id of policies.logicalIdsOf('AWS::IoT::TopicRule')) {
      const name = String(json.Resources[id]?.Properties.RuleName);
      if (!LIMITS.ruleName.test(name)) problems.push(`rule name ${name}`);
    }
    for (const id of policies.logicalIdsOf('AWS::CloudWatch::Alarm'))
      check(`alarm name of ${id}`, String(json.Resources[id]?.Properties.AlarmName).length, LIMITS.alarmName);
    for (const id of policies.logicalIdsOf('AWS::CloudWatch::Dashboard')) {
      const name = String(policies.properties(id).DashboardName);
      if (!LIMITS.dashboardName.test(name)) problems.push(`dashboard name ${name}`);
    }
    check('consumer group id', config.sink.consumerGroupId.length, LIMITS.consumerGroupId);
    check('stack name', stack.stackName.length, LIMITS.stackName);
    // Then none is over
    expect(problems).toEqual([]);
  });
});

describe("the config's maximum of topic filters, each as long as IoT allows", () => {
  it('splits the device permissions over policies a certificate can hold, each named by a stack output', () => {
    // Given the config's maximum of topic filters, each as long as IoT allows, and the longest rule name prefix
    // When the config's maximum is synthesized (environment-agnostic: measured with the longest partition and region)
    const { stack, template } = synthStack({
      iot: { topicFilters: LONGEST_TOPIC_FILTERS, ruleNamePrefix: LONGEST_RULE_NAME_PREFIX },
    });
    // Then it needs more than one policy and no more than IoT attaches to a certificate
    const count = stack.ingest.devicePolicies.length;
    expect(count).toBeGreaterThan(1);
    expect(count).toBeLessThanOrEqual(LIMITS.iotPoliciesPerCertificate);
    // And each has its output, DevicePolicyName, DevicePolicyName2, …
    const outputs = Object.keys(template.toJSON().Outputs as Record<string, unknown>).filter((k) =>
      k.startsWith('DevicePolicyName'),
    );
    expect(outputs.sort()).toEqual(Array.from({ length: count }, (_, i) => devicePolicyOutput(i)).sort());
  });
});

describe('the IAM engine used here (AGPL-3.0)', () => {
  it('is a devDependency that nothing deployed or shipped imports', () => {
    // Given the project's package.json, and the sources in lib, lambdas, ops and bin
    const root = join(__dirname, '..', '..');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    // When its dependencies are read, Then the engine is a devDependency only
    expect(pkg.devDependencies['@cloud-copilot/iam-simulate']).toBeDefined();
    expect(pkg.dependencies['@cloud-copilot/iam-simulate']).toBeUndefined();
    // When the sources are searched for it
    const importers = ['lib', 'lambdas', 'ops', 'bin'].flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((file) => /\.[cm]?[jt]s$/.test(file))
        .filter((file) => readFileSync(join(root, dir, file), 'utf8').includes('@cloud-copilot/')),
    );
    // Then none imports it
    expect(importers).toEqual([]);
  });
});
