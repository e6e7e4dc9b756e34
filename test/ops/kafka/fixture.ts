/** Runs `telemetry-ops` in-process with the Kafka commands against librdkafka's mock cluster, recording output. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { kafkaCommands } from '../../../ops/commands/kafka';
import { runCli } from '../../../ops/program';
import { KafkaMockCluster } from '../../helpers/kafka-mock';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A stream stand-in that keeps what was written. */
export class Recorder {
  public text = '';
  public write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** A temporary config directory holding `test.json`: the smallest valid configuration, plus `overrides`. */
export class ConfigDir {
  public readonly path = mkdtempSync(join(tmpdir(), 'telemetry-ops-kafka-'));

  public constructor(topic: string, overrides: Record<string, unknown> = {}) {
    const config = {
      stackName: 'TelemetryTest',
      kafka: { bootstrapServers: ['pkc-test.eu-west-1.aws.confluent.cloud:9092'], topic },
      ...overrides,
    };
    writeFileSync(join(this.path, 'test.json'), JSON.stringify(config));
  }

  public remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export interface RunOptions {
  readonly brokers: readonly string[] | string;
  readonly config: ConfigDir;
  readonly signal?: AbortSignal;
  /** Sees stdout as it is written (to act while a `--follow` runs). */
  readonly stdout?: Recorder;
}

export async function run(argv: readonly string[], options: RunOptions): Promise<CliRun> {
  const stdout = options.stdout ?? new Recorder();
  const stderr = new Recorder();
  const brokers = typeof options.brokers === 'string' ? options.brokers : options.brokers.join(',');
  const code = await runCli(
    ['--env', 'test', ...argv],
    {
      io: { stdout, stderr },
      environment: { KAFKA_BROKERS: brokers },
      configDir: options.config.path,
      ...(options.signal ? { signal: options.signal } : {}),
    },
    [kafkaCommands],
  );
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The one line a user error prints; fails when there is more than one line or a stack. */
export function oneLineError(result: CliRun): string {
  const lines = result.stderr.trimEnd().split('\n');
  if (lines.length !== 1 || !lines[0]?.startsWith('error: '))
    throw new Error(`expected one "error:" line on stderr, got:\n${result.stderr}`);
  return lines[0];
}

/**
 * A librdkafka mock cluster with topics, a configuration whose `kafka.topic` is the first of them, and a kafkajs
 * client to prepare and check what the CLI did. Start it in `beforeAll`, stop it in `afterAll`.
 */
export class KafkaFixture {
  public readonly cluster: KafkaMockCluster;
  public readonly config: ConfigDir;

  public constructor(topics: Readonly<Record<string, number>>) {
    this.cluster = KafkaMockCluster.start({ brokers: 3 });
    for (const [topic, partitions] of Object.entries(topics)) this.cluster.createTopic(topic, partitions);
    this.config = new ConfigDir(Object.keys(topics)[0] ?? 'telemetry.readings.v1');
  }

  /** Runs the CLI against the cluster. */
  public cli(...argv: string[]): Promise<CliRun> {
    return run(argv, { brokers: this.cluster.bootstrapServers, config: this.config });
  }

  public client(): Kafka {
    return new Kafka({ clientId: 'test', brokers: [...this.cluster.bootstrapServers], logLevel: logLevel.NOTHING });
  }

  public async produce(topic: string, messages: Message[]): Promise<void> {
    const producer = this.client().producer();
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages });
    } finally {
      await producer.disconnect();
    }
  }

  public async topicNames(): Promise<string[]> {
    const admin = this.client().admin();
    await admin.connect();
    try {
      return await admin.listTopics();
    } finally {
      await admin.disconnect();
    }
  }

  public stop(): void {
    this.cluster.stop();
    this.config.remove();
  }
}
