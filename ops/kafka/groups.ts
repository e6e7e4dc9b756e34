/**
 * Consumer groups, as `kafka-consumer-groups` shows them: the groups there are, and for one group its state, its
 * members and what each owns, and per partition the committed offset, the log-end offset and the lag between them.
 *
 * State and members come from DescribeGroups. Offsets and lag come from OffsetFetch and ListOffsets alone, so they
 * are shown even where a cluster does not answer DescribeGroups (librdkafka's mock broker, a key without the
 * DESCRIBE ACL on the group); the description then says so in its notes instead of guessing a state.
 */
import { type Admin, AssignerProtocol, type GroupDescription as KafkaGroupDescription } from 'kafkajs';
import { UserError } from '../../contracts/errors';
import type { Progress } from '../output';
import { isUnsupported } from './connection';
import { isInternalTopic, requireTopics } from './topics';

export interface GroupSummary {
  readonly groupId: string;
  /** `consumer` for consumer groups; connectors and other protocols name their own. */
  readonly protocolType: string;
  /** Stable, Empty, PreparingRebalance, CompletingRebalance, Dead; null when the cluster would not say. */
  readonly state: string | null;
  readonly members: number | null;
}

export interface GroupMember {
  readonly memberId: string;
  readonly clientId: string;
  readonly clientHost: string;
  readonly assignment: readonly { readonly topic: string; readonly partitions: readonly number[] }[];
}

export interface GroupPartition {
  readonly topic: string;
  readonly partition: number;
  /** Next offset the group will read; null when it has committed nothing for this partition. */
  readonly committedOffset: number | null;
  /** First offset the partition still keeps. */
  readonly earliestOffset: number;
  /** Next offset to be written (high watermark). */
  readonly logEndOffset: number;
  /** logEnd − committed; null without a commit. */
  readonly lag: number | null;
  /** The member that owns the partition now, if the group is active and the cluster said. */
  readonly owner: string | null;
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: string | null;
  readonly protocolType: string | null;
  /** The assignor in use (range, roundrobin, cooperative-sticky, …). */
  readonly protocol: string | null;
  /** null when the cluster would not describe the group. */
  readonly members: readonly GroupMember[] | null;
  readonly partitions: readonly GroupPartition[];
  /** Sum of the partitions' lag; partitions without a commit do not count (see `partitionsWithoutCommit`). */
  readonly totalLag: number;
  readonly partitionsWithoutCommit: number;
  readonly notes: readonly string[];
}

const DESCRIBE_CHUNK = 100;

const UNSUPPORTED_DESCRIBE =
  'the cluster does not answer DescribeGroups (no state or members; offsets and lag are exact)';

/** Every group the cluster knows, sorted, with state and member count (DescribeGroups, in chunks). */
export async function listGroups(
  admin: Admin,
  progress?: Progress,
): Promise<{ groups: GroupSummary[]; notes: string[] }> {
  const { groups } = await admin.listGroups();
  const ids = groups.map((group) => group.groupId).sort((a, b) => a.localeCompare(b));
  const protocolTypes = new Map(groups.map((group) => [group.groupId, group.protocolType]));
  progress?.setTotal(ids.length);
  const described = new Map<string, KafkaGroupDescription>();
  const notes: string[] = [];
  for (let i = 0; i < ids.length; i += DESCRIBE_CHUNK) {
    const chunk = ids.slice(i, i + DESCRIBE_CHUNK);
    try {
      for (const group of (await admin.describeGroups(chunk)).groups) described.set(group.groupId, group);
    } catch (error) {
      if (!isUnsupported(error)) throw error;
      notes.push(UNSUPPORTED_DESCRIBE);
      break;
    }
    progress?.increment(chunk.length);
  }
  return {
    groups: ids.map((groupId) => {
      const group = described.get(groupId);
      return {
        groupId,
        protocolType: protocolTypes.get(groupId) ?? '',
        state: group?.state ?? null,
        members: group ? group.members.length : null,
      };
    }),
    notes,
  };
}

export interface DescribeGroupOptions {
  /** Show exactly these topics. @default every topic the group has committed offsets on or is assigned */
  readonly topics?: readonly string[];
  /** Topics shown even without a commit, when they exist (the pipeline topic for the sink's group). */
  readonly include?: readonly string[];
}

/**
 * One group's state, members, and per-partition committed offset, log-end offset and lag. The progress counts the
 * topics whose offsets are read. Throws a `UserError` for a group the cluster does not know.
 */
export async function describeGroup(
  admin: Admin,
  groupId: string,
  options: DescribeGroupOptions = {},
  progress?: Progress,
): Promise<GroupDescription> {
  const notes: string[] = [];
  let group: KafkaGroupDescription | undefined;
  try {
    group = (await admin.describeGroups([groupId])).groups.find((g) => g.groupId === groupId);
  } catch (error) {
    if (!isUnsupported(error)) throw error;
    notes.push(UNSUPPORTED_DESCRIBE);
  }
  if (group?.state === 'Dead') throw unknownGroup(groupId);
  const members = group ? group.members.map(member) : null;

  // Which topics to show: as asked, or every topic the group has committed offsets on (one OffsetFetch for all
  // topics, as kafka-consumer-groups does) plus whatever its members own now.
  let topics: string[];
  if (options.topics) {
    await requireTopics(admin, options.topics);
    topics = [...options.topics];
  } else {
    const existing = (await admin.listTopics()).filter((topic) => !isInternalTopic(topic));
    const committed = existing.length > 0 ? await admin.fetchOffsets({ groupId, topics: existing }) : [];
    const shown = new Set([
      ...committed.filter((t) => t.partitions.some((p) => Number(p.offset) >= 0)).map((t) => t.topic),
      ...(members ?? []).flatMap((m) => m.assignment.map((a) => a.topic)),
      ...(options.include ?? []).filter((topic) => existing.includes(topic)),
    ]);
    topics = [...shown].sort((a, b) => a.localeCompare(b));
  }

  const owners = new Map<string, string>();
  for (const m of members ?? [])
    for (const { topic, partitions } of m.assignment)
      for (const partition of partitions) owners.set(`${topic}/${partition}`, `${m.clientId}@${m.clientHost}`);

  progress?.setTotal(topics.length);
  const partitions: GroupPartition[] = [];
  const commits = topics.length > 0 ? await admin.fetchOffsets({ groupId, topics }) : [];
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = new Map(
      (commits.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
    );
    for (const end of ends.sort((a, b) => a.partition - b.partition)) {
      const mark = committed.get(end.partition) ?? -1;
      const logEndOffset = Number(end.high);
      partitions.push({
        topic,
        partition: end.partition,
        committedOffset: mark >= 0 ? mark : null,
        earliestOffset: Number(end.low),
        logEndOffset,
        lag: mark >= 0 ? Math.max(0, logEndOffset - mark) : null,
        owner: owners.get(`${topic}/${end.partition}`) ?? null,
      });
    }
    progress?.increment();
  }

  // Without DescribeGroups, a group is known by its commits; a name with none is most likely a typo.
  if (!group && partitions.every((p) => p.committedOffset === null)) throw unknownGroup(groupId);
  return {
    groupId,
    state: group?.state ?? null,
    protocolType: group?.protocolType ?? null,
    protocol: group?.protocol || null,
    members,
    partitions,
    totalLag: partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0),
    partitionsWithoutCommit: partitions.filter((p) => p.committedOffset === null).length,
    notes,
  };
}

const unknownGroup = (groupId: string) =>
  new UserError(
    `Kafka consumer group ${groupId} does not exist or has committed nothing (see \`npx telemetry-ops groups list\`)`,
  );

function member(description: KafkaGroupDescription['members'][number]): GroupMember {
  let assignment: GroupMember['assignment'] = [];
  try {
    const decoded = AssignerProtocol.MemberAssignment.decode(description.memberAssignment);
    assignment = Object.entries(decoded?.assignment ?? {}).map(([topic, partitions]) => ({
      topic,
      partitions: [...partitions].sort((a, b) => a - b),
    }));
  } catch {
    // Not the consumer protocol's assignment format (a connector, a custom protocol): shown without assignment.
  }
  return {
    memberId: description.memberId,
    clientId: description.clientId,
    clientHost: description.clientHost,
    assignment,
  };
}
