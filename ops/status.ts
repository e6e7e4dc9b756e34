/**
 * `status`: one screen of the deployed pipeline, in flow order. Each part is read on its own, so one that cannot
 * be read (no MongoDB access from this machine, say) is reported without hiding the others. Values past the
 * configured alarm thresholds are listed under `attention`, with the command to look further.
 */
import { GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { isUserError } from '../contracts/errors';
import {
  METRICS_NAMESPACE,
  PIPELINE_DIMENSION,
  SERVICE_DIMENSION,
  ServiceName,
  SinkMetric,
} from '../contracts/metrics';
import { aws } from './aws-errors';
import type { OpsContext } from './context';
import { failureSource, sinkDeadLetterTopic } from './failures/sources';
import { type QueueDepth, queueDepth } from './failures/sqs';
import { withAdmin } from './kafka/connection';
import { describeGroup } from './kafka/groups';

/** Where the sink's EMF metrics live (`MongoSink` publishes them under these, `contracts/metrics.ts`). */
export const SINK_METRICS = { namespace: METRICS_NAMESPACE, service: ServiceName.Sink } as const;

/** How far back freshness and queue age are read. */
export const STATUS_WINDOW_MINUTES = 15;

/** A part of the status, or why it could not be read. */
export type Part<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export interface StatusReport {
  readonly pipeline: string;
  readonly region: string;
  readonly at: string;
  readonly queues: Part<{
    readonly ingest: QueueDepth & { readonly oldestAgeSeconds: number | null };
    readonly ingestErrors: QueueDepth;
    readonly deadLetter: QueueDepth;
  }>;
  readonly kafka: Part<{
    readonly topic: string;
    readonly group: string;
    readonly lag: number;
    readonly partitions: number;
    readonly partitionsWithoutCommit: number;
  }>;
  readonly deadLetterTopic: Part<{ readonly topic: string; readonly pending: number } | null>;
  readonly quarantine: Part<{ readonly records: number }>;
  readonly freshness: Part<{
    readonly windowMinutes: number;
    /** Device time → stored, ms. */
    readonly deviceP50: number | null;
    readonly deviceP99: number | null;
    /** IoT receive → stored, ms. */
    readonly ingestP50: number | null;
    readonly ingestP99: number | null;
  }>;
  /** Values past the configured alarm thresholds, each with what to run next. */
  readonly attention: readonly string[];
}

async function part<T>(read: () => Promise<T>): Promise<Part<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (error) {
    if (!isUserError(error)) throw error;
    return { ok: false, error: (error as Error).message };
  }
}

const queueName = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/** The metrics behind the freshness and queue-age lines, one GetMetricData call. */
async function readMetrics(context: OpsContext, ingestQueueUrl: string, now: Date) {
  const sink = [
    { Name: SERVICE_DIMENSION, Value: SINK_METRICS.service },
    { Name: PIPELINE_DIMENSION, Value: context.config.stackName },
  ];
  const window = STATUS_WINDOW_MINUTES * 60;
  const freshness = (id: string, metric: string, stat: string): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: SINK_METRICS.namespace, MetricName: metric, Dimensions: sink },
      Period: window,
      Stat: stat,
    },
  });
  const response = await aws(
    'read CloudWatch metrics',
    context.cloudWatch().send(
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - window * 1000),
        EndTime: now,
        ScanBy: 'TimestampDescending',
        MetricDataQueries: [
          freshness('deviceP50', SinkMetric.FreshnessDevice, 'p50'),
          freshness('deviceP99', SinkMetric.FreshnessDevice, 'p99'),
          freshness('ingestP50', SinkMetric.FreshnessIngest, 'p50'),
          freshness('ingestP99', SinkMetric.FreshnessIngest, 'p99'),
          {
            Id: 'ingestAge',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/SQS',
                MetricName: 'ApproximateAgeOfOldestMessage',
                Dimensions: [{ Name: 'QueueName', Value: queueName(ingestQueueUrl) }],
              },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    ),
  );
  const latest = (id: string) => response.MetricDataResults?.find((result) => result.Id === id)?.Values?.[0] ?? null;
  return {
    deviceP50: latest('deviceP50'),
    deviceP99: latest('deviceP99'),
    ingestP50: latest('ingestP50'),
    ingestP99: latest('ingestP99'),
    ingestAge: latest('ingestAge'),
  };
}

export async function readStatus(context: OpsContext, now = new Date()): Promise<StatusReport> {
  const { config } = context;
  const ingestQueueUrl = await context.output('IngestQueueUrl');
  const metrics = part(() => readMetrics(context, ingestQueueUrl, now));
  const group = context.sinkGroupId;
  const dltTopic = sinkDeadLetterTopic(context);

  const [queues, kafka, deadLetterTopic, quarantine, metricValues] = await Promise.all([
    part(async () => {
      const [ingest, ingestErrors, deadLetter] = await Promise.all([
        queueDepth(context.sqs(), ingestQueueUrl),
        queueDepth(context.sqs(), await context.output('ErrorQueueUrl')),
        queueDepth(context.sqs(), await context.output('DeadLetterQueueUrl')),
      ]);
      const values = await metrics;
      return {
        ingest: { ...ingest, oldestAgeSeconds: values.ok ? values.value.ingestAge : null },
        ingestErrors,
        deadLetter,
      };
    }),
    part(async () => {
      const description = await withAdmin(
        await context.kafka(),
        `read the lag of consumer group ${group}`,
        context.kafkaTarget(),
        (admin) => describeGroup(admin, group, { topics: [config.kafka.topic] }),
      );
      return {
        topic: config.kafka.topic,
        group,
        lag: description.totalLag,
        partitions: description.partitions.length,
        partitionsWithoutCommit: description.partitionsWithoutCommit,
      };
    }),
    part(async () =>
      dltTopic ? { topic: dltTopic, pending: await (await failureSource(context, 'sink-dlt')).count() } : null,
    ),
    part(async () => ({ records: await (await failureSource(context, 'quarantine')).count() })),
    metrics,
  ]);
  const freshness: StatusReport['freshness'] = metricValues.ok
    ? {
        ok: true,
        value: {
          windowMinutes: STATUS_WINDOW_MINUTES,
          deviceP50: metricValues.value.deviceP50,
          deviceP99: metricValues.value.deviceP99,
          ingestP50: metricValues.value.ingestP50,
          ingestP99: metricValues.value.ingestP99,
        },
      }
    : metricValues;
  const report = {
    pipeline: config.stackName,
    region: context.region,
    at: now.toISOString(),
    queues,
    kafka,
    deadLetterTopic,
    quarantine,
    freshness,
  };
  return { ...report, attention: attention(report, context) };
}

/** What is past its alarm threshold, with the command to look further. */
function attention(report: Omit<StatusReport, 'attention'>, context: OpsContext): string[] {
  const limits = context.config.alarms;
  const lines: string[] = [];
  if (report.queues.ok) {
    const { ingest, ingestErrors, deadLetter } = report.queues.value;
    if (ingest.oldestAgeSeconds !== null && ingest.oldestAgeSeconds > limits.maxIngestAgeSeconds)
      lines.push(
        `ingest queue: oldest message ${ingest.oldestAgeSeconds} s > ${limits.maxIngestAgeSeconds} s: the forwarder is behind or failing (README runbook, IngestAgeHigh)`,
      );
    if (ingestErrors.visible > limits.maxErrorQueueMessages)
      lines.push(`ingest-errors holds ${ingestErrors.visible}: npx telemetry-ops failures list --store ingest-errors`);
    if (deadLetter.visible > limits.maxDeadLetterMessages)
      lines.push(`ingest-dlq holds ${deadLetter.visible}: npx telemetry-ops failures list --store ingest-dlq`);
  }
  if (report.kafka.ok && report.kafka.value.lag > limits.maxOffsetLag)
    lines.push(
      `sink lag ${report.kafka.value.lag} > ${limits.maxOffsetLag}: npx telemetry-ops groups describe ${report.kafka.value.group}`,
    );
  if (report.deadLetterTopic.ok && report.deadLetterTopic.value && report.deadLetterTopic.value.pending > 0)
    lines.push(
      `sink-dlt holds ${report.deadLetterTopic.value.pending}: npx telemetry-ops failures list --store sink-dlt`,
    );
  if (report.quarantine.ok && report.quarantine.value.records > 0)
    lines.push(
      `quarantine holds ${report.quarantine.value.records}: npx telemetry-ops failures list --store quarantine`,
    );
  if (
    report.freshness.ok &&
    report.freshness.value.ingestP99 !== null &&
    report.freshness.value.ingestP99 > limits.maxFreshnessP99Seconds * 1000
  )
    lines.push(
      `freshness p99 ${(report.freshness.value.ingestP99 / 1000).toFixed(1)} s > ${limits.maxFreshnessP99Seconds} s (README runbook, FreshnessP99High)`,
    );
  return lines;
}
