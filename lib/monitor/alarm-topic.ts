import { ArnFormat, Aws, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Properties of an `AlarmTopic`. */
export interface AlarmTopicProps {
  /**
   * Names of the alarms that notify the topic start with `<alarmNamePrefix>-`; only those may publish.
   * @default the stack name
   */
  readonly alarmNamePrefix?: string;
  /** Subscribed to the topic when set; the address must confirm the subscription. @default no subscription */
  readonly email?: string;
}

/**
 * The SNS topic every alarm of the pipeline notifies: encrypted with a customer-managed key (CloudWatch cannot
 * publish to a topic encrypted with the AWS-managed SNS key), TLS only, with an optional e-mail subscription.
 *
 * A topic policy replaces SNS's default policy, so the TLS-only Deny alone would leave nobody allowed to publish:
 * CloudWatch is allowed explicitly, on the topic and on its key, and only for this account's alarms named with the
 * pipeline's prefix (`aws:SourceAccount` + `aws:SourceArn`, against the confused deputy). Sources: AWS Knowledge
 * Center, "Why didn't I receive an SNS notification for my CloudWatch alarm trigger?"
 * (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger); Amazon SNS Developer Guide,
 * "Enable compatibility between event sources from AWS services and encrypted topics"
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services) for the key.
 */
export class AlarmTopic extends Construct {
  /** The topic every alarm notifies. */
  public readonly topic: Topic;
  /** The customer-managed key the topic is encrypted with (CloudWatch may use it for this pipeline's alarms only). */
  public readonly key: Key;

  public constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const alarmNamePrefix = props.alarmNamePrefix ?? Stack.of(this).stackName;
    const alarms = Stack.of(this).formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: `${alarmNamePrefix}-*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const cloudWatchForOurAlarms = new ServicePrincipal('cloudwatch.amazonaws.com').withConditions({
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': alarms },
    });

    this.key = new Key(this, 'TopicKey', {
      description: 'Encrypts the telemetry pipeline alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.topic = new Topic(this, 'Topic', {
      masterKey: this.key,
      enforceSSL: true,
      displayName: 'Telemetry pipeline alarms',
    });
    // Also grants the topic's key (kms:Decrypt, kms:GenerateDataKey*) to the same scoped principal, in the key policy:
    // aws-cdk-lib's TopicGrants.publish passes keyActions for an encrypted topic, so no separate key.grant is needed
    // (test/lib/variant-matrix.test.ts evaluates CloudWatch → key as Allowed)
    this.topic.grantPublish(cloudWatchForOurAlarms);
    if (props.email) {
      this.topic.addSubscription(new EmailSubscription(props.email));
      Validations.of(this.topic).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'The only subscription is an operator e-mail address. An undeliverable e-mail loses no data: the alarm state and its history stay in CloudWatch, where the dashboard and `aws cloudwatch describe-alarm-history` show them.',
      });
    }
  }
}
