import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IAlarm, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface PipelineAlarmsProps {
  readonly ingestQueue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly errorQueue: IQueue;
  readonly forwarder: IFunction;
  readonly sink: IFunction;
  /** Subscribed to the alarm topic when set; the address must confirm the subscription. @default no subscription */
  readonly email?: string;
  /** Alarm when the oldest message in the ingest queue is older than this. @default Duration.minutes(5) */
  readonly maxIngestAge?: Duration;
}

/**
 * The alarms that mean "data is not flowing or is being parked", sent to one encrypted SNS topic. The full
 * dashboard and the remaining alarms come with the monitoring stage; these are the ones no deployment should lack.
 */
export class PipelineAlarms extends Construct {
  public readonly topic: Topic;
  public readonly alarms: readonly IAlarm[];

  public constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);

    // CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key: a customer key with a grant it is.
    const key = new Key(this, 'TopicKey', {
      description: 'Encrypts the telemetry pipeline alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', {
      masterKey: key,
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

    const maxAge = props.maxIngestAge ?? Duration.minutes(5);
    const notEmpty = (alarmId: string, queue: IQueue, what: string) =>
      new Alarm(this, alarmId, {
        alarmDescription: `${what} holds messages: inspect them and redrive after fixing the cause (README, "Failure stores")`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });

    this.alarms = [
      notEmpty('DeadLetterQueueNotEmpty', props.deadLetterQueue, 'The ingest dead-letter queue'),
      notEmpty('ErrorQueueNotEmpty', props.errorQueue, 'The IoT rule error queue'),
      new Alarm(this, 'IngestAgeHigh', {
        alarmDescription: `The oldest message in the ingest queue is older than ${maxAge.toHumanString()}: the forwarder is not keeping up or cannot reach Kafka`,
        metric: props.ingestQueue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        threshold: maxAge.toSeconds(),
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'ForwarderErrors', {
        alarmDescription: 'The forwarder failed whole invocations (not single records): check its logs',
        metric: props.forwarder.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'SinkErrors', {
        alarmDescription:
          'The sink failed whole invocations (MongoDB unreachable, a bad environment): the event source retries them, then sends them to the dead-letter topic',
        metric: props.sink.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    ];
    const action = new SnsAction(this.topic);
    for (const alarm of this.alarms) {
      (alarm as Alarm).addAlarmAction(action);
    }
  }
}
