/** The forwarder core's dependencies, as small interfaces ("ports"). Adapters: `kafka-publisher.ts`, `sqs-quarantine.ts`. */
import type { InvalidReason } from '../../contracts/envelope';

/** One record to produce. `id` is the SQS message id, reported back in batchItemFailures if the record fails. */
export interface OutboundMessage {
  readonly id: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface PublishOutcome {
  /** Ids of the messages Kafka did not acknowledge. Every id not listed here was acknowledged with acks=all. */
  readonly failedIds: readonly string[];
  /** One entry per distinct failure, for the log. */
  readonly errors: readonly string[];
}

export interface Publisher {
  /** Produces the messages; never throws: whatever was not acknowledged by `deadline` comes back in `failedIds`. */
  publish(messages: readonly OutboundMessage[], deadline: number): Promise<PublishOutcome>;
}

/** A record that can never succeed, parked for an operator with the reason. */
export interface QuarantineEntry {
  readonly id: string;
  readonly body: string;
  readonly reason: InvalidReason;
  readonly detail: string;
  /** Epoch ms of the first delivery attempt. */
  readonly firstReceivedAt: number;
  readonly attempts: number;
  /** ARN of the queue the record came from (the pointer of an original too large to park). @default unknown */
  readonly sourceArn?: string;
}

export interface Quarantine {
  /** Parks the entries; never throws: entries it could not park come back in `failedIds`. */
  quarantine(entries: readonly QuarantineEntry[], deadline: number): Promise<{ readonly failedIds: readonly string[] }>;
}
