/**
 * Topic operations, as `kafka-topics --list|--describe` offers them: the topics there are, and per topic its
 * partitions (leaders, replicas, ISR, offsets) and the configurations that decide whether the pipeline's records are
 * kept and accepted. Each takes a connected kafkajs `Admin` and returns plain data; what to print is the command's
 * business. Creating and deleting topics is not here: the pipeline's topics are made with Confluent's tools or IaC
 * (README "Deploying"), and locally by `local` and compose.yaml.
 *
 * Existence is always checked against the full topic list first: a Metadata request that names an unknown topic
 * makes some brokers (auto.create.topics.enable, and librdkafka's mock) create it, which a describe must never do.
 */
import { type Admin, ConfigResourceTypes, type PartitionMetadata } from 'kafkajs';
import { UserError } from '../../contracts/errors';
import { causeChain } from '../../lambdas/shared/errors';
import type { Progress } from '../output';
import { isUnsupported } from './connection';

export interface TopicSummary {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly internal: boolean;
}

export interface PartitionDescription {
  readonly partition: number;
  /** Broker id of the leader; null when the partition has none (offline). */
  readonly leader: number | null;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** First offset still kept (log start). */
  readonly earliestOffset: number;
  /** Next offset to be written (log end, the high watermark). */
  readonly latestOffset: number;
  /** latest − earliest: the records kept (fewer on a compacted topic). */
  readonly messages: number;
  readonly underReplicated: boolean;
}

export interface TopicDescription {
  readonly name: string;
  readonly partitionCount: number;
  readonly replicationFactor: number;
  readonly messages: number;
  readonly partitions: readonly PartitionDescription[];
  /** The {@link PIPELINE_TOPIC_CONFIGS} the cluster reported, by name; null when it would not say (see `notes`). */
  readonly configs: Readonly<Record<string, string>> | null;
  /** Why the configs are missing, and what in them puts the pipeline's delivery guarantees at risk. */
  readonly notes: readonly string[];
}

/**
 * The topic configurations an operator of this pipeline needs to see: how long records are kept (the sink must read
 * them before retention deletes them), whether compaction may drop them, how many replicas an acks=all write needs,
 * the largest batch accepted, and which timestamp records carry (`tail` and `verify` show it).
 * Kafka topic configs: https://docs.confluent.io/cloud/current/topics/manage.html ("Configuration Reference for
 * Topics in Confluent Cloud").
 */
export const PIPELINE_TOPIC_CONFIGS = [
  'cleanup.policy',
  'retention.ms',
  'retention.bytes',
  'min.insync.replicas',
  'max.message.bytes',
  'message.timestamp.type',
] as const;

/** What the pipeline expects of a topic it uses; absent for other topics, which are described without checks. */
export interface PipelineTopicExpectations {
  /** The pipeline's role for the topic, as the notes name it ("telemetry topic", "sink dead-letter topic"). */
  readonly role: string;
  /** The forwarder's `kafka.maxRequestBytes`: batches up to this size must be accepted. */
  readonly maxRequestBytes?: number;
}

export interface DescribeTopicsOptions {
  /** The pipeline's own topics by name: their configs are checked against what it needs. */
  readonly pipelineTopics?: Readonly<Record<string, PipelineTopicExpectations>>;
  /** Counts the topics described. */
  readonly progress?: Progress;
}

/**
 * Internal topics: the broker's own (`__consumer_offsets`, `__transaction_state`) and Confluent's and Schema
 * Registry's (`_confluent-…`, `_schemas`). kafkajs does not pass on the Metadata `is_internal` flag, and the naming
 * convention covers the platform topics the flag does not.
 */
export const isInternalTopic = (name: string) => name.startsWith('_');

const replicationFactor = (partitions: readonly PartitionMetadata[]) =>
  Math.max(0, ...partitions.map((partition) => partition.replicas.length));

/** Every topic, sorted by name; internal topics only with `includeInternal`. */
export async function listTopics(admin: Admin, options: { includeInternal: boolean }): Promise<TopicSummary[]> {
  const { topics } = await admin.fetchTopicMetadata();
  return topics
    .map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.length,
      replicationFactor: replicationFactor(topic.partitions),
      internal: isInternalTopic(topic.name),
    }))
    .filter((topic) => options.includeInternal || !topic.internal)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Throws a `UserError` naming the missing topics unless every one exists. */
export async function requireTopics(admin: Admin, names: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((name) => !existing.has(name));
  if (missing.length === 1)
    throw new UserError(`Kafka topic ${missing[0]} does not exist (see \`npx telemetry-ops topics list\`)`);
  if (missing.length > 1)
    throw new UserError(`Kafka topics ${missing.join(', ')} do not exist (see \`npx telemetry-ops topics list\`)`);
}

/** Partitions, replicas, ISR, offsets and configs of existing topics, one topic at a time. */
export async function describeTopics(
  admin: Admin,
  names: readonly string[],
  options: DescribeTopicsOptions = {},
): Promise<TopicDescription[]> {
  await requireTopics(admin, names);
  const descriptions: TopicDescription[] = [];
  for (const name of names) {
    descriptions.push(await describeTopic(admin, name, options.pipelineTopics?.[name]));
    options.progress?.increment();
  }
  return descriptions;
}

async function describeTopic(
  admin: Admin,
  name: string,
  expectations: PipelineTopicExpectations | undefined,
): Promise<TopicDescription> {
  const [metadata, offsets] = await Promise.all([
    admin.fetchTopicMetadata({ topics: [name] }),
    admin.fetchTopicOffsets(name),
  ]);
  const partitionsMetadata = metadata.topics.find((topic) => topic.name === name)?.partitions ?? [];
  const byPartition = new Map(offsets.map((offset) => [offset.partition, offset]));
  const partitions = partitionsMetadata
    .map((partition): PartitionDescription => {
      const offset = byPartition.get(partition.partitionId);
      const earliestOffset = Number(offset?.low ?? 0);
      const latestOffset = Number(offset?.high ?? 0);
      return {
        partition: partition.partitionId,
        leader: partition.leader >= 0 ? partition.leader : null,
        replicas: partition.replicas,
        isr: partition.isr,
        earliestOffset,
        latestOffset,
        messages: Math.max(0, latestOffset - earliestOffset),
        underReplicated: partition.isr.length < partition.replicas.length,
      };
    })
    .sort((a, b) => a.partition - b.partition);
  const factor = replicationFactor(partitionsMetadata);
  const configs = await topicConfigs(admin, name);
  return {
    name,
    partitionCount: partitions.length,
    replicationFactor: factor,
    messages: partitions.reduce((sum, partition) => sum + partition.messages, 0),
    partitions,
    configs: configs.values,
    notes: configs.values
      ? expectations
        ? configProblems(configs.values, factor, expectations)
        : []
      : [`configs of ${name} not shown: ${configs.refusal}`],
  };
}

/**
 * The topic's {@link PIPELINE_TOPIC_CONFIGS} (DescribeConfigs), or why the cluster would not give them: it does not
 * offer the request, names no controller to send it to (librdkafka's mock cluster does both), or the credentials lack
 * the DESCRIBE_CONFIGS ACL on the topic. The partitions are worth showing either way; anything else is thrown.
 */
async function topicConfigs(
  admin: Admin,
  name: string,
): Promise<{ values: Record<string, string>; refusal?: undefined } | { values: null; refusal: string }> {
  try {
    const { resources } = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name, configNames: [...PIPELINE_TOPIC_CONFIGS] }],
      includeSynonyms: false,
    });
    const values: Record<string, string> = {};
    for (const entry of resources.find((resource) => resource.resourceName === name)?.configEntries ?? [])
      values[entry.configName] = entry.configValue;
    return { values };
  } catch (error) {
    const refusal = configsRefusal(error);
    if (!refusal) throw error;
    return { values: null, refusal };
  }
}

function configsRefusal(error: unknown): string | undefined {
  if (isUnsupported(error)) return 'the cluster does not answer DescribeConfigs';
  for (const link of causeChain(error)) {
    const { name, type } = link as { name?: unknown; type?: unknown };
    if (name === 'KafkaJSBrokerNotFound')
      return 'the cluster names no controller among its brokers to send DescribeConfigs to';
    if (type === 'TOPIC_AUTHORIZATION_FAILED' || type === 'CLUSTER_AUTHORIZATION_FAILED')
      return 'the credentials may not read its configuration (grant the API key the DESCRIBE_CONFIGS ACL on the topic)';
  }
  return undefined;
}

/**
 * What in a pipeline topic's configs breaks a delivery guarantee (README "Delivery guarantees"): compaction keeps one
 * record per key and the key is the device, so readings the sink has not stored yet can go; acks=all is only as
 * strong as `min.insync.replicas` (Kafka's TopicConfig: "a replication factor of 3, min.insync.replicas 2, acks all"
 * is the typical durable setting; above the replication factor every write is refused, KIP-579); and a topic whose
 * `max.message.bytes` (the largest record batch it accepts) is below the forwarder's request bound refuses batches
 * the forwarder builds.
 */
export function configProblems(
  configs: Readonly<Record<string, string>>,
  replicationFactor: number,
  expectations: PipelineTopicExpectations,
): string[] {
  const problems: string[] = [];
  const cleanup = configs['cleanup.policy'];
  if (cleanup?.split(',').some((policy) => policy.trim() === 'compact'))
    problems.push(
      `the ${expectations.role} has cleanup.policy=${cleanup}: compaction keeps only the newest record of each key (a device), so readings not yet stored can be removed; set cleanup.policy=delete`,
    );
  const minInsync = Number(configs['min.insync.replicas']);
  if (Number.isInteger(minInsync) && minInsync > replicationFactor)
    problems.push(
      `the ${expectations.role} has min.insync.replicas=${minInsync}, more than its replication factor ${replicationFactor}: every acks=all write is refused (NOT_ENOUGH_REPLICAS)`,
    );
  else if (Number.isInteger(minInsync) && minInsync < 2 && replicationFactor > 1)
    problems.push(
      `the ${expectations.role} has min.insync.replicas=${minInsync}: an acks=all write is then acknowledged by the leader alone and lost if that broker fails before a follower copied it; set min.insync.replicas=2`,
    );
  const maxMessageBytes = Number(configs['max.message.bytes']);
  if (
    expectations.maxRequestBytes !== undefined &&
    Number.isInteger(maxMessageBytes) &&
    maxMessageBytes < expectations.maxRequestBytes
  )
    problems.push(
      `the ${expectations.role} has max.message.bytes=${maxMessageBytes}, below kafka.maxRequestBytes (${expectations.maxRequestBytes}): the forwarder's larger batches are refused (MESSAGE_TOO_LARGE); lower kafka.maxRequestBytes or raise max.message.bytes`,
    );
  return problems;
}
