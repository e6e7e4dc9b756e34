import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** Subscribed to the topic when set; the address must confirm the subscription. @default no subscription */
  readonly email?: string;
}

/**
 * The SNS topic every alarm of the pipeline notifies: encrypted with a customer-managed key (CloudWatch cannot
 * publish to a topic encrypted with the AWS-managed SNS key), TLS only, with an optional e-mail subscription.
 */
export class AlarmTopic extends Construct {
  public readonly topic: Topic;
  public readonly key: Key;

  public constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    this.key = new Key(this, 'TopicKey', {
      description: 'Encrypts the telemetry pipeline alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', {
      masterKey: this.key,
      enforceSSL: true,
      displayName: 'Telemetry pipeline alarms',
    });
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
