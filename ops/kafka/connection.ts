/**
 * Reaching Kafka from the CLI: which brokers a command talks to (for error messages), a connected admin client for
 * the length of one command, and the translation of kafkajs errors a user can fix into one-line `UserError`s that
 * say what to change (KAFKA_BROKERS, the configuration, the credentials, ACLs). Anything else stays a bug.
 */
import type { Admin, Kafka } from 'kafkajs';
import { isUserError, UserError } from '../../contracts/errors';
import { causeChain, hasErrorNamed } from '../../lambdas/shared/errors';
import { classifyKafkaError } from '../../lambdas/shared/kafka/errors';
import type { PipelineConfig } from '../../lib/config/schema';

/** The brokers a command uses and where they came from, for messages that tell the user what to fix. */
export interface KafkaTarget {
  readonly brokers: readonly string[];
  /** `KAFKA_BROKERS` (local, plaintext unless KAFKA_SSL) or the configuration's `kafka.bootstrapServers`. */
  readonly source: 'KAFKA_BROKERS' | 'config';
  /** Configuration environment, for "config/<env>.json" in hints. */
  readonly env: string;
}

/** The same choice `OpsContext.kafka()` makes: `KAFKA_BROKERS` when set, the configured cluster otherwise. */
export function kafkaTarget(environment: NodeJS.ProcessEnv, config: PipelineConfig, env: string): KafkaTarget {
  const local = environment.KAFKA_BROKERS;
  if (local)
    return {
      brokers: local
        .split(',')
        .map((broker) => broker.trim())
        .filter(Boolean),
      source: 'KAFKA_BROKERS',
      env,
    };
  return { brokers: config.kafka.bootstrapServers, source: 'config', env };
}

/** kafkajs protocol error types that are the user's to fix, with what to say. */
const PROTOCOL_HINTS: Readonly<Record<string, string>> = {
  TOPIC_AUTHORIZATION_FAILED:
    'the credentials may not access this topic (grant the API key a topic ACL, e.g. `confluent kafka acl create`)',
  GROUP_AUTHORIZATION_FAILED: 'the credentials may not access this consumer group (grant the API key a group ACL)',
  CLUSTER_AUTHORIZATION_FAILED:
    'the credentials may not run cluster operations (grant the API key the ACL, or use a cluster admin key)',
  UNKNOWN_TOPIC_OR_PARTITION: 'the topic or partition does not exist',
  INVALID_GROUP_ID: 'the group id is not valid',
  GROUP_ID_NOT_FOUND: 'the group does not exist',
};

/** What to check when the brokers cannot be reached, by where they were named. */
function hint(target: KafkaTarget): string {
  return target.source === 'KAFKA_BROKERS'
    ? 'check KAFKA_BROKERS (host:port,host:port; plaintext unless KAFKA_SSL=true), or unset it to use the configured cluster'
    : `check kafka.bootstrapServers in config/${target.env}.json and that this machine can reach them (TLS, port 9092), or set KAFKA_BROKERS`;
}

/**
 * The `UserError` for a kafkajs error a user can fix (unreachable brokers, rejected credentials, missing ACLs,
 * an operation the cluster does not offer), or undefined for anything else.
 */
export function kafkaUserError(error: unknown, what: string, target: KafkaTarget): UserError | undefined {
  if (isUserError(error)) return error;
  const at = target.brokers.join(',');
  const kind = classifyKafkaError(error);
  if (kind === 'authentication')
    return new UserError(
      `Cannot ${what}: Kafka at ${at} rejected the credentials (${innermost(error)}); ${
        target.source === 'KAFKA_BROKERS'
          ? 'check KAFKA_USERNAME and KAFKA_PASSWORD'
          : 'check the API key and secret in the Kafka credentials secret (kafka.credentialsSecretArn/Name, or the stack output CredentialsSecretArn)'
      }`,
      { cause: error },
    );
  for (const link of [...causeChain(error), ...aggregated(error)]) {
    const { name, type, apiName } = link as { name?: unknown; type?: unknown; apiName?: unknown };
    if (name === 'KafkaJSServerDoesNotSupportApiKey')
      return new UserError(
        `Cannot ${what}: the Kafka cluster at ${at} does not support the ${typeof apiName === 'string' ? apiName : 'needed'} request`,
        { cause: error },
      );
    if (typeof type === 'string' && PROTOCOL_HINTS[type])
      return new UserError(`Cannot ${what}: ${PROTOCOL_HINTS[type]} (${type}: ${(link as Error).message})`, {
        cause: error,
      });
    if (name === 'KafkaJSBrokerNotFound')
      return new UserError(
        `Cannot ${what}: Kafka at ${at} named a controller or coordinator it does not list among its brokers (${(link as Error).message}); retry once the cluster is healthy`,
        { cause: error },
      );
  }
  if (kind === 'connection' || isNoBroker(error))
    return new UserError(`Cannot ${what}: Kafka at ${at} is unreachable (${innermost(error)}); ${hint(target)}`, {
      cause: error,
    });
  return undefined;
}

/** Runs `call`, turning kafkajs errors a user can fix into `UserError`s. */
export async function kafkaCall<T>(what: string, target: KafkaTarget, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw kafkaUserError(error, what, target) ?? error;
  }
}

/** Connects an admin client, runs `run` with it, disconnects; kafkajs errors a user can fix become `UserError`s. */
export function withAdmin<T>(
  kafka: Kafka,
  what: string,
  target: KafkaTarget,
  run: (admin: Admin) => Promise<T>,
): Promise<T> {
  return kafkaCall(what, target, async () => {
    const admin = kafka.admin();
    try {
      await admin.connect();
      try {
        return await run(admin);
      } catch (error) {
        throw (await mockClusterRefusal(admin, error, what, target)) ?? error;
      }
    } finally {
      await admin.disconnect().catch(() => {});
    }
  });
}

/** librdkafka's mock cluster names itself `mockCluster<address>` in Metadata responses. */
const MOCK_CLUSTER_ID = /^mockCluster/;

/**
 * What to say when librdkafka's mock cluster (the one `telemetry-ops local` runs when KAFKA_BROKERS is unset)
 * refused a request it does not implement: it answers Metadata, Produce, Fetch, ListOffsets and the consumer group
 * protocol, but offers no ListGroups. Undefined for any other cluster or error.
 */
async function mockClusterRefusal(
  admin: Admin,
  error: unknown,
  what: string,
  target: KafkaTarget,
): Promise<UserError | undefined> {
  if (target.source !== 'KAFKA_BROKERS') return undefined;
  const refusal = [...causeChain(error), ...aggregated(error)].find(
    (link) => (link as { name?: unknown }).name === 'KafkaJSServerDoesNotSupportApiKey',
  ) as { apiName?: unknown } | undefined;
  if (!refusal) return undefined;
  const clusterId = await admin.describeCluster().then(
    (cluster) => cluster.clusterId,
    () => undefined,
  );
  if (!clusterId || !MOCK_CLUSTER_ID.test(clusterId)) return undefined;
  const request = typeof refusal.apiName === 'string' ? refusal.apiName : 'such';
  return new UserError(
    `Cannot ${what}: the local Kafka mock cluster at ${target.brokers.join(',')} does not support this (it offers no ${request} request); for it, run Kafka from compose.yaml (\`docker compose up -d --wait kafka\`) and set KAFKA_BROKERS=localhost:9092`,
    { cause: error },
  );
}

/** Whether the cluster answered "I do not offer this request" (e.g. DescribeGroups on a test broker). */
export const isUnsupported = (error: unknown) => hasErrorNamed(error, 'KafkaJSServerDoesNotSupportApiKey');

function* aggregated(error: unknown): Generator<unknown> {
  const errors = (error as { errors?: unknown })?.errors;
  if (Array.isArray(errors)) yield* errors;
}

function isNoBroker(error: unknown): boolean {
  return [...causeChain(error)].some((link) => {
    const { name, message } = link as { name?: unknown; message?: unknown };
    return (
      name === 'KafkaJSNoBrokerAvailableError' ||
      (typeof message === 'string' && /no brokers in the broker pool|failed to connect/i.test(message))
    );
  });
}

/** The deepest message along the cause chain: kafkajs' wrappers only say "retries exceeded". */
function innermost(error: unknown): string {
  let message = String(error);
  for (const link of causeChain(error)) if (link instanceof Error && link.message) message = link.message;
  return message;
}
