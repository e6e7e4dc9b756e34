/**
 * The forwarder's pure core: validates a batch of SQS records, produces the valid ones to Kafka, parks the invalid
 * ones in the dead-letter queue, and says which records SQS must deliver again.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { deriveEventId } from '../../contracts/enrichment';
import { ENVELOPE_SCHEMA_VERSION, InvalidReason, type TelemetryEnvelope } from '../../contracts/envelope';
import { failureDetail } from '../../contracts/failure';
import { KafkaHeader } from '../../contracts/kafka-headers';
import { ForwarderMetric } from '../../contracts/metrics';
import { type EnvelopeParseResult, parseEnvelope } from '../shared/envelope';
import { boundedFields, type LoggerPort, type MetricsPort } from '../shared/observability';
import type { OutboundMessage, Publisher, Quarantine, QuarantineEntry } from './ports';

export interface ForwarderDeps {
  readonly publisher: Publisher;
  readonly quarantine: Quarantine;
  readonly logger: LoggerPort;
  readonly metrics: MetricsPort;
  /** Largest accepted envelope, UTF-8 bytes. */
  readonly maxMessageBytes: number;
  /** Epoch ms by which the batch must be handled (see `invocationDeadline`). */
  readonly deadline: number;
  readonly now?: () => number;
}

/** The Kafka record for a valid envelope. The value is the SQS body as received: it was just validated. */
export function toKafkaMessage(id: string, body: string, envelope: TelemetryEnvelope): OutboundMessage {
  return {
    id,
    key: envelope.deviceId,
    value: body,
    headers: {
      [KafkaHeader.EventId]: envelope.eventId,
      [KafkaHeader.ReceivedAt]: String(envelope.receivedAt),
      [KafkaHeader.SchemaVersion]: String(ENVELOPE_SCHEMA_VERSION),
      [KafkaHeader.SourceTopic]: envelope.sourceTopic,
      // No trace id for a reading published over HTTPS: the header is left out rather than sent empty
      ...(envelope.traceId === undefined ? {} : { [KafkaHeader.TraceId]: envelope.traceId }),
      [KafkaHeader.ContentType]: 'application/json',
    },
  };
}

/**
 * A sequenced reading's eventId is the IoT rule's `sha256("<deviceId>/<ts>/<seq>")` (lib/ingest/rule-sql.ts): one
 * that is not was forged or copied from another reading, and would make the sink skip this one as a duplicate or
 * quarantine it as a conflict. Parking it here keeps it out of Kafka with the reason. (A device that writes `ts` or
 * `seq` as `42.0` or `4.2e1` gets a different id from the rule than its integer text; it is parked too: replayable.)
 */
function checkEventId(parsed: EnvelopeParseResult): EnvelopeParseResult {
  if (!parsed.ok || parsed.envelope.seq === undefined) return parsed;
  const { deviceId, ts, seq, eventId } = parsed.envelope;
  const expected = deriveEventId(deviceId, ts, seq);
  if (eventId === expected) return parsed;
  return {
    ok: false,
    reason: InvalidReason.EventIdMismatch,
    detail: `eventId ${eventId} is not sha256("${deviceId}/${ts}/${seq}") = ${expected}`,
  };
}

/**
 * Handles one SQS batch. Invalid records are never retried (they would fail the same way): they go to the DLQ with
 * their reason. Valid records are produced; those Kafka did not acknowledge, and invalid ones the DLQ did not
 * take, are returned as batchItemFailures so SQS delivers them again. Never throws for a record's sake.
 */
export async function forwardBatch(records: readonly SQSRecord[], deps: ForwarderDeps): Promise<SQSBatchResponse> {
  const now = deps.now ?? Date.now;
  const outbound: OutboundMessage[] = [];
  const invalid: QuarantineEntry[] = [];
  let oldestReceivedAt = Number.POSITIVE_INFINITY;

  for (const record of records) {
    const parsed = checkEventId(parseEnvelope(record.body, deps.maxMessageBytes));
    if (parsed.ok) {
      outbound.push(toKafkaMessage(record.messageId, record.body, parsed.envelope));
      if (parsed.envelope.receivedAt < oldestReceivedAt) oldestReceivedAt = parsed.envelope.receivedAt;
    } else {
      invalid.push({
        id: record.messageId,
        body: record.body,
        reason: parsed.reason,
        detail: parsed.detail,
        firstReceivedAt: Number(record.attributes.ApproximateFirstReceiveTimestamp) || now(),
        attempts: Number(record.attributes.ApproximateReceiveCount) || 1,
        sourceArn: record.eventSourceARN,
      });
    }
  }

  const [published, parked] = await Promise.all([
    deps.publisher.publish(outbound, deps.deadline),
    deps.quarantine.quarantine(invalid, deps.deadline),
  ]);

  const failedIds = [...published.failedIds, ...parked.failedIds];
  const forwarded = outbound.length - published.failedIds.length;

  deps.metrics.addMetric(ForwarderMetric.BatchSize, MetricUnit.Count, records.length);
  deps.metrics.addMetric(ForwarderMetric.Forwarded, MetricUnit.Count, forwarded);
  deps.metrics.addMetric(ForwarderMetric.Invalid, MetricUnit.Count, invalid.length);
  deps.metrics.addMetric(ForwarderMetric.Failed, MetricUnit.Count, failedIds.length);
  if (forwarded > 0) {
    deps.metrics.addMetric(ForwarderMetric.OldestRecordAge, MetricUnit.Milliseconds, now() - oldestReceivedAt);
  }

  if (invalid.length > 0) {
    deps.logger.warn(
      'Invalid records sent to the dead-letter queue',
      boundedFields({
        count: invalid.length,
        examples: invalid
          .slice(0, 5)
          .map(({ id, reason, detail }) => ({ messageId: failureDetail(id), reason, detail: failureDetail(detail) })),
      }),
    );
  }
  if (published.failedIds.length > 0) {
    deps.logger.error(
      'Records not acknowledged by Kafka; SQS will deliver them again',
      boundedFields({ count: published.failedIds.length, errors: published.errors.slice(0, 5).map(failureDetail) }),
    );
  }
  if (parked.failedIds.length > 0) {
    deps.logger.error('Invalid records the dead-letter queue did not accept; SQS will deliver them again', {
      count: parked.failedIds.length,
    });
  }
  deps.logger.debug('Batch handled', { batchSize: records.length, forwarded, invalid: invalid.length });

  return { batchItemFailures: failedIds.map((itemIdentifier) => ({ itemIdentifier })) };
}
