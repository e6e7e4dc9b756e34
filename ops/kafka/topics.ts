/**
 * Topic operations, as `kafka-topics` offers them: list, describe (leaders, replicas, ISR, offsets), create and
 * delete. Each takes a connected kafkajs `Admin` and returns plain data; what to print is the command's business.
 *
 * Existence is always checked against the full topic list first: a Metadata request that names an unknown topic
 * makes some brokers (auto.create.topics.enable, and librdkafka's mock) create it, which a describe must never do.
 */
import type { Admin, ITopicConfig, PartitionMetadata } from 'kafkajs';
import { UserError } from '../../contracts/errors';
import type { Progress } from '../output';

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

/** Partitions, replicas, ISR and offsets of existing topics, one topic at a time (the progress counts topics). */
export async function describeTopics(
  admin: Admin,
  names: readonly string[],
  progress?: Progress,
): Promise<TopicDescription[]> {
  await requireTopics(admin, names);
  const descriptions: TopicDescription[] = [];
  for (const name of names) {
    descriptions.push(await describeTopic(admin, name));
    progress?.increment();
  }
  return descriptions;
}

async function describeTopic(admin: Admin, name: string): Promise<TopicDescription> {
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
  return {
    name,
    partitionCount: partitions.length,
    replicationFactor: replicationFactor(partitionsMetadata),
    messages: partitions.reduce((sum, partition) => sum + partition.messages, 0),
    partitions,
  };
}

/** What `topics create` asks the cluster for. */
export interface CreateTopicRequest {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Topic configurations (`retention.ms`, `cleanup.policy`, …). */
  readonly configs: Readonly<Record<string, string>>;
}

/** What the cluster says about the request before it is sent. */
export interface ClusterFacts {
  readonly brokers: number;
  /** Confluent Cloud accepts replication factor 3 only. */
  readonly confluentCloud: boolean;
  readonly existingTopics: readonly string[];
}

/** Kafka's own rule for topic names (`Topic.validate`). */
export function topicNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the topic name is empty';
  if (name === '.' || name === '..') return `"${name}" is not a valid topic name`;
  if (name.length > 249) return `the topic name is ${name.length} characters long; at most 249 are allowed`;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return `topic name "${name}" may only contain letters, digits, ".", "_" and "-"`;
  return undefined;
}

/** `key=value` pairs from `--config`, as a map; every bad pair is named in one `UserError`. */
export function parseConfigPairs(pairs: readonly string[], option = '--config'): Record<string, string> {
  const configs: Record<string, string> = {};
  const problems: string[] = [];
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at).trim() : '';
    const value = at > 0 ? pair.slice(at + 1).trim() : '';
    if (!/^[A-Za-z][A-Za-z0-9._-]*$/.test(key) || value === '')
      problems.push(`${option} ${JSON.stringify(pair)}: expected key=value, e.g. retention.ms=604800000`);
    else if (Object.hasOwn(configs, key)) problems.push(`${option} ${key} is given twice`);
    else configs[key] = value;
  }
  if (problems.length > 0) throw new UserError(problems.join('; '));
  return configs;
}

/** Every problem with a create request, checked locally and against the cluster's facts; empty when it is fine. */
export function createTopicProblems(request: CreateTopicRequest, facts: ClusterFacts): string[] {
  const problems: string[] = [];
  const nameProblem = topicNameProblem(request.topic);
  if (nameProblem) problems.push(nameProblem);
  if (facts.existingTopics.includes(request.topic)) problems.push(`topic ${request.topic} already exists`);
  if (facts.confluentCloud && request.replicationFactor !== 3)
    problems.push(`Confluent Cloud requires --replication-factor 3, not ${request.replicationFactor}`);
  else if (request.replicationFactor > facts.brokers)
    problems.push(
      `--replication-factor ${request.replicationFactor} exceeds the cluster's ${facts.brokers} broker${facts.brokers === 1 ? '' : 's'}`,
    );
  return problems;
}

/**
 * Creates a topic, or with `validateOnly` asks the controller to validate the request without creating it (Kafka's
 * CreateTopics `validate_only`: names, configs and policies are checked by the cluster itself).
 */
export async function createTopic(
  admin: Admin,
  request: CreateTopicRequest,
  options: { validateOnly: boolean; timeoutMs?: number },
): Promise<void> {
  const topic: ITopicConfig = {
    topic: request.topic,
    numPartitions: request.partitions,
    replicationFactor: request.replicationFactor,
    configEntries: Object.entries(request.configs).map(([name, value]) => ({ name, value })),
  };
  const created = await admin.createTopics({
    topics: [topic],
    validateOnly: options.validateOnly,
    // A validation creates nothing whose leaders could be waited for.
    waitForLeaders: !options.validateOnly,
    timeout: options.timeoutMs ?? 30_000,
  });
  // kafkajs answers false instead of throwing when the topic appeared in the meantime.
  if (!created && !options.validateOnly) throw new UserError(`Kafka topic ${request.topic} already exists`);
}

/** Why a delete must not go ahead, or undefined: confirmation missing, or a topic the pipeline needs. */
export function deleteRefusal(
  topic: string,
  options: { yes: boolean; force: boolean },
  pipelineTopics: Readonly<Record<string, string>>,
): string | undefined {
  const role = Object.entries(pipelineTopics).find(([, name]) => name === topic)?.[0];
  if (role && !options.force)
    return `Kafka topic ${topic} is the pipeline's ${role}: deleting it loses its records and stops the pipeline; pass --force as well as --yes if you really mean it`;
  if (!options.yes) return `Deleting Kafka topic ${topic} destroys all its records: pass --yes to confirm`;
  return undefined;
}

export async function deleteTopic(admin: Admin, topic: string, timeoutMs = 30_000): Promise<void> {
  await requireTopics(admin, [topic]);
  await admin.deleteTopics({ topics: [topic], timeout: timeoutMs });
}
