/**
 * The whole pipeline on one machine, with the deployed handlers: MQTT broker → IoT rules (enrichment) → ingest
 * queue (SQS semantics) → forwarder → Kafka → event source (Lambda's Kafka semantics) → sink → MongoDB. Every
 * setting comes from the same configuration file as the stack (`settings.ts`); each component names the AWS
 * behaviour it reproduces.
 */

import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { Kafka, type logCreator, logLevel } from 'kafkajs';
import { FailureAttribute, type FailureEnvelope } from '../../contracts/failure';
import { describeError } from '../../lambdas/shared/errors';
import type { KafkaBatchResponse, KafkaEvent } from '../../lambdas/sink/kafka-event';
import type { PipelineConfig } from '../../lib/config/schema';
import { fromDeadLetter, fromSinkDeadLetter } from '../../ops/failures/envelopes';
import { Containers } from './containers';
import { DeadLetterTopicWriter } from './dead-letter-topic-writer';
import { matchRules, type Publish, ruleOutput } from './iot-rule';
import { KafkaEventSource } from './kafka-event-source';
import { LocalQueue } from './local-queue';
import { type MqttIngress, startEmbeddedBroker, subscribeToBroker } from './mqtt-ingress';
import type { HandlerFactories, LocalLog } from './ports';
import {
  checkVisibilityTimeout,
  forwarderEnvironment,
  type LocalRule,
  type LocalSettings,
  localSettings,
  sinkEnvironment,
} from './settings';
import { type SentMessage, SqsEndpoint } from './sqs-endpoint';
import { SqsEventSource } from './sqs-event-source';

export interface LocalPipelineOptions {
  readonly config: PipelineConfig;
  readonly handlers: HandlerFactories;
  /** Plaintext Kafka brokers (`host:port`); the topic and the sink's dead-letter topic must exist. */
  readonly kafkaBrokers: readonly string[];
  /** The sink's `MONGODB_URI`; undefined when its handler factory gives it the in-memory store instead. */
  readonly mongoUri: string | undefined;
  /** An embedded broker on host and port (port 0: any free one), or an existing broker to subscribe to. @default 127.0.0.1:1883 */
  readonly mqtt?: { readonly host?: string; readonly port?: number } | { readonly url: string };
  /**
   * At least the forwarder's timeout, as Lambda requires of an SQS event source.
   * @default the stack's: 6 × forwarder.timeoutSeconds + forwarder.maxBatchingWindowSeconds
   */
  readonly visibilityTimeoutMs?: number;
  /** Forwarder invocations at a time. @default forwarder.maxConcurrency, at most 4 (one machine) */
  readonly forwarderConcurrency?: number;
  /**
   * Containers (handler instances) per function at most; invocations beyond wait for a free one. Handlers built
   * from source share their module's Powertools singletons, so give them 1. @default one per concurrent invocation
   */
  readonly containers?: { readonly forwarder?: number; readonly sink?: number };
  /** Delay before the sink event source's retry `n`. @default 200 ms doubling up to 5 s */
  readonly sinkRetryDelayMs?: (retry: number) => number;
  /** Powertools log level of both functions (stdout). @default WARN */
  readonly logLevel?: string;
  /** @default stderr */
  readonly log?: LocalLog;
}

/** What went through the pipeline since it started. */
export interface LocalCounters {
  /** Device publishes the broker passed on (every one of them: routed or not). */
  readonly published: number;
  /** Messages the rules sent to the ingest queue (a publish that two rules select is two). */
  readonly received: number;
  /** Publishes on topics no rule selects: part of `published`, never sent anywhere. */
  readonly unrouted: number;
  /** Records the forwarder produced to Kafka (deleted from the ingest queue, not parked). */
  readonly forwarded: number;
  /** Ingest-queue messages delivered again after a failure (listed in a response, or a failed invocation). */
  readonly redelivered: number;
  /**
   * Ingest-queue messages the forwarder acknowledged after another receive had taken them again: the visibility
   * timeout ended during the invocation, so they were delivered twice though nothing failed.
   */
  readonly lateAcknowledgements: number;
  /** Kafka records the sink acknowledged: stored, already stored, or quarantined. */
  readonly stored: number;
  /** Kafka records the event source invoked the sink with again. */
  readonly sinkRetries: number;
  /** Ingest dead-letter queue (invalid records, messages past maxReceiveCount) and sink dead-letter topic. */
  readonly deadLettered: { readonly ingest: number; readonly sink: number };
  /** Ingest-queue messages waiting or in flight. */
  readonly backlog: number;
}

const CONSOLE_LOG: LocalLog = {
  warn: (message) => process.stderr.write(`warning: ${message}\n`),
  error: (message) => process.stderr.write(`error: ${message}\n`),
};

/** A stoppable part, stopped in reverse start order. */
type Stop = () => Promise<void> | void;

export class LocalPipeline {
  public readonly settings: LocalSettings;
  public readonly ingestQueue: LocalQueue;
  /** The ingest dead-letter queue: invalid records parked by the forwarder, messages past maxReceiveCount. */
  public readonly deadLetterQueue: LocalQueue;

  private readonly count = {
    published: 0,
    received: 0,
    unrouted: 0,
    forwarded: 0,
    redelivered: 0,
    lateAcknowledgements: 0,
    stored: 0,
    sinkRetries: 0,
    sinkDeadLettered: 0,
  };
  /** Ids of ingest messages the forwarder parked, until their batch outcome is counted. */
  private readonly parked = new Set<string>();
  private deadLetterWriter: DeadLetterTopicWriter | undefined;
  private readonly stops: Stop[] = [];
  private stopped = false;
  private mqtt = '';
  private dlqUrl = '';

  private constructor(settings: LocalSettings, visibilityTimeoutMs: number | undefined) {
    this.settings = settings;
    const visibility = visibilityTimeoutMs ?? settings.ingest.visibilityTimeoutMs;
    checkVisibilityTimeout(settings, visibility, 'visibilityTimeoutMs');
    this.deadLetterQueue = new LocalQueue({ name: `${settings.stackName}-ingest-dlq` });
    this.ingestQueue = new LocalQueue({
      name: `${settings.stackName}-ingest`,
      visibilityTimeoutMs: visibility,
      redrive: { deadLetterQueue: this.deadLetterQueue, maxReceiveCount: settings.ingest.maxReceiveCount },
    });
  }

  /** Where devices publish. */
  public get mqttUrl(): string {
    return this.mqtt;
  }

  /** The dead-letter queue's URL on the loopback SQS endpoint (what the forwarder's `DLQ_URL` names). */
  public get deadLetterQueueUrl(): string {
    return this.dlqUrl;
  }

  /** Starts every part, the MQTT ingress last, so nothing is accepted before the rest can carry it. */
  public static async start(options: LocalPipelineOptions): Promise<LocalPipeline> {
    const pipeline = new LocalPipeline(localSettings(options.config), options.visibilityTimeoutMs);
    try {
      await pipeline.assemble(options, options.log ?? CONSOLE_LOG);
      return pipeline;
    } catch (error) {
      await pipeline.stop().catch(() => undefined);
      throw error;
    }
  }

  private async assemble(options: LocalPipelineOptions, log: LocalLog): Promise<void> {
    const { settings } = this;
    const sqs = await SqsEndpoint.start((message) =>
      message.queueUrl === this.dlqUrl ? this.park(message) : undefined,
    );
    this.stops.push(() => sqs.stop());
    this.dlqUrl = sqs.queueUrl(this.deadLetterQueue.name);

    const endpoints = {
      kafkaBrokers: options.kafkaBrokers,
      deadLetterQueueUrl: this.dlqUrl,
      sqsEndpoint: sqs.endpoint,
      mongoUri: options.mongoUri,
      logLevel: options.logLevel ?? 'WARN',
    };
    const forwarderConcurrency = options.forwarderConcurrency ?? Math.min(settings.forwarder.maxConcurrency, 4);
    const forwarderEnv = forwarderEnvironment(settings, options.config, endpoints);
    const forwarder = new Containers<SQSEvent, SQSBatchResponse>({
      functionName: `${settings.stackName}-forwarder`,
      timeoutMs: settings.forwarder.timeoutMs,
      max: options.containers?.forwarder ?? forwarderConcurrency,
      create: () => options.handlers.forwarder(forwarderEnv),
    });
    this.stops.push(() => forwarder.close());
    await forwarder.warm();
    const sinkEnv = sinkEnvironment(settings, options.config, endpoints);
    const sink = new Containers<KafkaEvent, KafkaBatchResponse>({
      functionName: `${settings.stackName}-sink`,
      timeoutMs: settings.sink.timeoutMs,
      max: options.containers?.sink ?? settings.partitions,
      create: () => options.handlers.sink(sinkEnv),
    });
    this.stops.push(() => sink.close());
    await sink.warm();

    const kafka = new Kafka({
      clientId: `${settings.stackName}-local-event-source`,
      brokers: [...options.kafkaBrokers],
      logLevel: logLevel.ERROR,
      logCreator: recordLossReporter(log),
      retry: { retries: 10, initialRetryTime: 200 },
    });
    const { deadLetterTopic } = settings.sink;
    const deadLetter = deadLetterTopic ? new DeadLetterTopicWriter(kafka, deadLetterTopic, log) : undefined;
    this.deadLetterWriter = deadLetter;
    if (deadLetter) {
      await deadLetter.connect();
      this.stops.push(() => deadLetter.close());
    }

    const events = new KafkaEventSource({
      kafka,
      topic: settings.topic,
      groupId: settings.sink.consumerGroupId,
      partitions: settings.partitions,
      bootstrapServers: options.kafkaBrokers.join(','),
      invoke: (event) => sink.invoke(event),
      functionName: `${settings.stackName}-sink`,
      batchSize: settings.sink.batchSize,
      batchingWindowMs: settings.sink.batchingWindowMs,
      reportBatchItemFailures: settings.sink.provisioned,
      retryAttempts: settings.sink.retryAttempts,
      maxRecordAgeMs: settings.sink.maxRecordAgeMs,
      deadLetter,
      ...(options.sinkRetryDelayMs ? { retryDelayMs: options.sinkRetryDelayMs } : {}),
      onBatch: (outcome) => {
        this.count.stored += outcome.acknowledged;
        this.count.sinkRetries += outcome.retried;
        this.count.sinkDeadLettered += outcome.deadLettered;
      },
      log,
    });
    await events.start();
    this.stops.push(() => events.stop());

    const poller = new SqsEventSource({
      queue: this.ingestQueue,
      invoke: (event) => forwarder.invoke(event),
      functionName: `${settings.stackName}-forwarder`,
      batchSize: settings.forwarder.batchSize,
      batchingWindowMs: settings.forwarder.batchingWindowMs,
      concurrency: forwarderConcurrency,
      onBatch: ({ deleted, retried, late }) => {
        for (const id of deleted) if (!this.parked.delete(id)) this.count.forwarded++;
        this.count.redelivered += retried;
        this.count.lateAcknowledgements += late;
      },
      log,
    });
    poller.start();
    this.stops.push(() => poller.stop());

    const listener = (publish: Publish) => this.publish(publish);
    const mqtt: MqttIngress =
      options.mqtt && 'url' in options.mqtt
        ? await subscribeToBroker({ url: options.mqtt.url, topics: subscriptions(settings.rules) }, listener, log)
        : await startEmbeddedBroker(
            { host: options.mqtt?.host ?? '127.0.0.1', port: options.mqtt?.port ?? 1883 },
            listener,
            log,
          );
    this.stops.push(() => mqtt.stop());
    this.mqtt = mqtt.url;
  }

  /** A message the forwarder sent to the dead-letter queue. */
  private park(message: SentMessage): string {
    const source = message.attributes[FailureAttribute.SourceId]?.StringValue;
    if (source) this.parked.add(source);
    return this.deadLetterQueue.send(message.body, message.attributes);
  }

  /** A device message, as the broker received it: every rule it matches sends its output to the ingest queue. */
  public publish(publish: Publish): void {
    const matches = matchRules(this.settings.rules, publish.topic);
    this.count.published++;
    if (matches.length === 0) this.count.unrouted++;
    for (const match of matches) {
      this.ingestQueue.send(ruleOutput(match, publish));
      this.count.received++;
    }
  }

  /** Sends a body straight to the ingest queue (a redrive, or a test bypassing MQTT). */
  public sendToIngestQueue(body: string): void {
    this.ingestQueue.send(body);
    this.count.received++;
  }

  public counters(): LocalCounters {
    return {
      published: this.count.published,
      received: this.count.received,
      unrouted: this.count.unrouted,
      forwarded: this.count.forwarded,
      redelivered: this.count.redelivered,
      lateAcknowledgements: this.count.lateAcknowledgements,
      stored: this.count.stored,
      sinkRetries: this.count.sinkRetries,
      deadLettered: { ingest: this.deadLetterQueue.visibleCount, sink: this.count.sinkDeadLettered },
      backlog: this.ingestQueue.visibleCount + this.ingestQueue.inFlightCount,
    };
  }

  /**
   * What the failure stores hold, as `failures` shows it: the ingest dead-letter queue, and what the sink event
   * source wrote to the dead-letter topic (kept here too: the mock cluster's topic goes when the pipeline stops).
   */
  public deadLetters(): { readonly ingest: FailureEnvelope[]; readonly sink: FailureEnvelope[] } {
    const { maxReceiveCount } = this.settings.ingest;
    return {
      ingest: this.deadLetterQueue.messages().map((message) => fromDeadLetter(message, this.dlqUrl, maxReceiveCount)),
      sink: (this.deadLetterWriter?.written ?? []).flatMap(fromSinkDeadLetter),
    };
  }

  /**
   * Stops every part, the MQTT ingress first; waits for the invocations under way. What is still in the ingest
   * queue is lost (it lives in memory); what Kafka holds stays there and is delivered on the next start. A part that
   * fails to stop does not keep the others running (workers, the loopback SQS endpoint would keep the process
   * alive after Ctrl-C): every part is stopped, then the failures are thrown together.
   */
  public async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const errors: unknown[] = [];
    for (const stop of this.stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0)
      throw new AggregateError(
        errors,
        `Stopping the local pipeline: ${errors.map((error) => describeError(error)).join('; ')}`,
      );
  }
}

/**
 * kafkajs logs only; one error matters here: a consumer whose next offset the broker no longer keeps lost the records
 * in between. The librdkafka mock cluster keeps at most 5 MiB per partition, so a sink that falls that far behind
 * loses records; a real broker keeps them for its retention time.
 */
function recordLossReporter(log: LocalLog): logCreator {
  const reported = new Set<string>();
  return () =>
    ({ log: entry }) => {
      if (!String(entry.message).startsWith('Offset out of range')) return;
      const where = `${String(entry.topic)}/${String(entry.partition)}`;
      if (reported.has(where)) return;
      reported.add(where);
      log.error(
        `Kafka no longer holds records the sink had not read on ${where}: they are lost (the mock cluster keeps 5 MiB per partition; set KAFKA_BROKERS for long or fast runs)`,
      );
    };
}

/** What to subscribe to on another broker: every rule's filter, directly and through Basic Ingest. */
function subscriptions(rules: readonly LocalRule[]): string[] {
  return rules.flatMap((rule) => [rule.topicFilter, `$aws/rules/${rule.name}/${rule.topicFilter}`]);
}
