/**
 * What the local pipeline needs besides itself: Kafka (brokers named by `KAFKA_BROKERS`, or else librdkafka's mock
 * cluster in this process, through koffi), MongoDB (`MONGODB_URI`, or else the in-memory store) and esbuild (to
 * bundle the functions). Each is checked before anything starts; every missing or unreachable one is reported at
 * once, with how to provide it.
 */
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { envBrokers } from '../../contracts/environment';
import { UserError } from '../../contracts/errors';
import { KafkaMockCluster } from '../kafka-mock/cluster';
import { loadEsbuild } from './bundles';
import type { LocalSettings } from './settings';

export interface LocalKafka {
  readonly brokers: readonly string[];
  /** How to say where Kafka is. */
  readonly description: string;
  /** Stops the mock cluster (nothing for external brokers). */
  stop(): void;
}

export interface LocalDependencies {
  readonly kafka: LocalKafka;
  /** MONGODB_URI, checked; undefined when it is not set: the sink then writes to the in-memory store. */
  readonly mongoUri: string | undefined;
}

const PROBE_TIMEOUT_MS = 5_000;

/** The URI with its password hidden, for messages. */
export const redactUri = (uri: string): string => uri.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');

/** The topics the pipeline uses: the main one and, in provisioned mode, the sink's dead-letter topic. */
const topicsOf = (settings: LocalSettings): string[] =>
  [settings.topic, settings.sink.deadLetterTopic].filter((topic): topic is string => topic !== undefined);

/** Checks (and starts) every dependency; throws one UserError naming each problem and its fix. */
export async function resolveDependencies(
  environment: NodeJS.ProcessEnv,
  settings: LocalSettings,
): Promise<LocalDependencies> {
  const [kafka, mongo, bundler] = await Promise.allSettled([
    localKafka(environment.KAFKA_BROKERS, settings),
    checkMongo(environment.MONGODB_URI),
    checkBundler(),
  ]);
  if (kafka.status === 'fulfilled' && mongo.status === 'fulfilled' && bundler.status === 'fulfilled')
    return { kafka: kafka.value, mongoUri: mongo.value };
  if (kafka.status === 'fulfilled') kafka.value.stop();
  const problems = [kafka, mongo, bundler].flatMap((result) =>
    result.status === 'rejected' ? [(result.reason as Error).message] : [],
  );
  throw new UserError(`Cannot run the pipeline locally:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
}

async function checkBundler(): Promise<void> {
  try {
    loadEsbuild();
  } catch (error) {
    throw new Error(`esbuild: ${(error as Error).message}`, { cause: error });
  }
}

async function checkMongo(uri: string | undefined): Promise<string | undefined> {
  if (uri === undefined || uri === '') return undefined;
  if (!/^mongodb(\+srv)?:\/\//.test(uri))
    throw new Error(`MongoDB: MONGODB_URI must start with mongodb:// or mongodb+srv://, got ${redactUri(uri)}`);
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: PROBE_TIMEOUT_MS,
    connectTimeoutMS: PROBE_TIMEOUT_MS,
    appName: 'telemetry-local',
  });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return uri;
  } catch (error) {
    throw new Error(
      `MongoDB: cannot reach ${redactUri(uri)} (${(error as Error).name}: ${(error as Error).message}); is it running? (\`docker compose up -d mongodb\`)`,
      { cause: error },
    );
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function localKafka(configured: string | undefined, settings: LocalSettings): Promise<LocalKafka> {
  if (configured !== undefined) return externalKafka(configured, settings);
  let cluster: KafkaMockCluster;
  try {
    cluster = KafkaMockCluster.start({ brokers: 3 });
  } catch (error) {
    const orBrokers = 'or set KAFKA_BROKERS=localhost:9092 (`docker compose up -d kafka kafka-init`)';
    if ((error as Error).name === 'DevDependencyMissingError')
      throw new Error(`Kafka: no broker. ${(error as Error).message}; ${orBrokers}`, { cause: error });
    if ((error as Error).name !== 'LibrdkafkaMissingError') throw error;
    throw new Error(
      `Kafka: no broker. Install librdkafka for the built-in mock cluster (\`apt-get install librdkafka1\`) ${orBrokers}`,
      { cause: error },
    );
  }
  for (const topic of topicsOf(settings)) cluster.createTopic(topic, settings.partitions);
  return {
    brokers: cluster.bootstrapServers,
    description: `librdkafka mock cluster at ${cluster.bootstrapServers.join(',')} (in this process; gone when it stops)`,
    stop: () => cluster.stop(),
  };
}

/** Brokers named by KAFKA_BROKERS (plaintext): reachable, and the topics there (created if missing). */
async function externalKafka(configured: string, settings: LocalSettings): Promise<LocalKafka> {
  const parsed = envBrokers.safeParse(configured);
  if (!parsed.success) throw new Error(`Kafka: KAFKA_BROKERS must be host:port[,host:port…], got "${configured}"`);
  const brokers = parsed.data;
  const admin = new Kafka({
    clientId: `${settings.stackName}-local`,
    brokers,
    connectionTimeout: PROBE_TIMEOUT_MS,
    retry: { retries: 1 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = topicsOf(settings).filter((topic) => !existing.has(topic));
    if (missing.length > 0)
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: settings.partitions, replicationFactor: 1 })),
      });
  } catch (error) {
    throw new Error(
      `Kafka: ${brokers.join(',')} (KAFKA_BROKERS) is not usable (${(error as Error).message}); start it (\`docker compose up -d kafka kafka-init\`) or unset KAFKA_BROKERS to use the built-in mock cluster`,
      { cause: error },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  return { brokers, description: `${brokers.join(',')} (KAFKA_BROKERS)`, stop: () => undefined };
}
