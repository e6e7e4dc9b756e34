import { beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../helpers/access';
import { synthStack } from '../../helpers/synth';
import { TemplatePolicies } from '../../helpers/template-policies';

/**
 * CloudWatch publishes alarm notifications as the service principal `cloudwatch.amazonaws.com`, with the alarm as
 * `aws:SourceArn` and its account as `aws:SourceAccount` (AWS Knowledge Center, "Why didn't I receive an SNS
 * notification for my CloudWatch alarm trigger?",
 * https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger). On a KMS-encrypted topic it also
 * needs kms:GenerateDataKey* and kms:Decrypt on the topic's key (Amazon SNS Developer Guide, "Enable compatibility
 * between event sources from AWS services and encrypted topics",
 * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 */
describe('AlarmTopic: CloudWatch can deliver this pipeline’s alarms, and nothing else can publish', () => {
  let policies: TemplatePolicies;
  let topicArn: string;
  let keyArn: string;
  let alarmArns: string[];
  const cloudwatch = 'cloudwatch.amazonaws.com';
  const asAlarm = (alarmArn: string, account = policies.env.account) => ({
    'aws:SourceArn': alarmArn,
    'aws:SourceAccount': account,
  });

  beforeAll(() => {
    // Given the default pipeline, synthesized
    const { template, stack } = synthStack();
    policies = new TemplatePolicies(template.toJSON() as never, stack.stackName);
    topicArn = policies.arnOf(stack.getLogicalId(stack.alarmTopic.topic.node.defaultChild as never));
    keyArn = policies.arnOf(stack.getLogicalId(stack.alarmTopic.key.node.defaultChild as never));
    alarmArns = policies
      .logicalIdsOf('AWS::CloudWatch::Alarm')
      .filter((id) => JSON.stringify(policies.properties(id).AlarmActions).includes(topicArn))
      .map((id) => policies.arnOf(id));
  });

  it('lets CloudWatch publish every alarm that notifies the topic, and use the topic key', async () => {
    expect(alarmArns.length).toBeGreaterThan(5);
    for (const alarmArn of alarmArns) {
      // When CloudWatch publishes on behalf of the alarm / Then the topic and key policies allow it
      expect(
        await decide(policies, {
          principal: cloudwatch,
          action: 'sns:Publish',
          resource: topicArn,
          context: asAlarm(alarmArn),
        }),
        alarmArn,
      ).toBe('Allowed');
      for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
        expect(
          await decide(policies, { principal: cloudwatch, action, resource: keyArn, context: asAlarm(alarmArn) }),
        ).toBe('Allowed');
      }
    }
  });

  it('refuses CloudWatch acting for an alarm of another pipeline or another account (confused deputy)', async () => {
    const [alarmArn = ''] = alarmArns;
    const otherPipeline = alarmArn.replace(/:alarm:.*/, ':alarm:SomeoneElse-IngestAgeHigh');
    const otherAccount = alarmArn.replace(policies.env.account, '444455556666');
    for (const context of [asAlarm(otherPipeline), asAlarm(otherAccount, '444455556666'), {}]) {
      expect(
        await decide(policies, { principal: cloudwatch, action: 'sns:Publish', resource: topicArn, context }),
      ).not.toBe('Allowed');
      expect(
        await decide(policies, { principal: cloudwatch, action: 'kms:GenerateDataKey', resource: keyArn, context }),
      ).not.toBe('Allowed');
    }
  });

  it('keeps denying publish without TLS, and anyone outside the account', async () => {
    const [alarmArn = ''] = alarmArns;
    const plain = { ...asAlarm(alarmArn), 'aws:SecureTransport': 'false' };
    expect(
      await decide(policies, { principal: cloudwatch, action: 'sns:Publish', resource: topicArn, context: plain }),
    ).toBe('ExplicitlyDenied');
    const outsider = 'arn:aws:iam::444455556666:role/outsider';
    expect(await decide(policies, { principal: outsider, action: 'sns:Publish', resource: topicArn })).toBe(
      'ImplicitlyDenied',
    );
    expect(await decide(policies, { principal: outsider, action: 'kms:Decrypt', resource: keyArn })).toBe(
      'ImplicitlyDenied',
    );
  });
});
