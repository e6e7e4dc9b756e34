/**
 * `groups describe|list` against librdkafka's mock cluster. The mock answers OffsetFetch, ListOffsets and the
 * consumer-group protocol, so committed offsets and lag are real; it does not implement DescribeGroups or
 * ListGroups, so state and members are "unknown" (with a note) and `groups list` ends in a one-line error. What
 * needs those requests (states, members and their assignments, the chunked describe of `groups list`) is tested
 * against a recording admin.
 */
import { type Admin, AssignerProtocol, type GroupDescription } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeGroup, listGroups } from '../../../ops/kafka/groups';
import { KafkaFixture, oneLineError } from './fixture';

const TOPIC = 'telemetry.readings.v1';
const OTHER = 'other.topic';
const GROUP = 'lag-test';
let kafka: KafkaFixture;
const cli = (...argv: string[]) => kafka.cli(...argv);
const client = () => kafka.client();

/** Next offset per topic/partition after consuming `count` records of `topics` with `groupId`, committing each. */
async function consumeAndCommit(groupId: string, topics: string[], count: number): Promise<Map<string, number>> {
  const committed = new Map<string, number>();
  const consumer = client().consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    let consumed = 0;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ topic, partition, message }) => {
            if (consumed >= count) return;
            consumed++;
            const next = Number(message.offset) + 1;
            await consumer.commitOffsets([{ topic, partition, offset: String(next) }]);
            committed.set(`${topic}/${partition}`, next);
            if (consumed === count) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return committed;
}

beforeAll(async () => {
  kafka = new KafkaFixture({ [TOPIC]: 3, [OTHER]: 1 });
  // N = 12 records: 6 in partition 0, 4 in partition 1, 2 in partition 2; 3 more in another topic
  await kafka.produce(
    TOPIC,
    [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2].map((partition, i) => ({ partition, value: `r${i}` })),
  );
  await kafka.produce(OTHER, [{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
});
afterAll(() => kafka.stop());

describe('groups describe', () => {
  it('shows committed offset, log-end offset and lag per partition, and the total lag', async () => {
    // Given a group that consumed and committed M = 7 of the N = 12 records
    const committed = await consumeAndCommit(GROUP, [TOPIC], 7);

    // When it is described
    const result = await cli('--json', 'groups', 'describe', GROUP);

    // Then every partition shows what was committed, the log end, and their difference; the lags add up to N − M
    expect(result.code).toBe(0);
    const group = JSON.parse(result.stdout);
    const ends = [6, 4, 2];
    expect(group.partitions).toEqual(
      ends.map((end, partition) => {
        const mark = committed.get(`${TOPIC}/${partition}`) ?? null;
        return {
          topic: TOPIC,
          partition,
          committedOffset: mark,
          earliestOffset: 0,
          logEndOffset: end,
          lag: mark === null ? null : end - mark,
          owner: null,
        };
      }),
    );
    expect(group.totalLag).toBe(
      [...committed].reduce((sum, [key, mark]) => sum + (ends[Number(key.split('/')[1])] ?? 0) - mark, 0),
    );
    expect(group.partitionsWithoutCommit).toBe(3 - committed.size);
    expect(group).toMatchObject({ groupId: GROUP, state: null, members: null });
    expect(group.notes).toEqual([expect.stringMatching(/does not answer DescribeGroups/)]);
  });

  it('counts lag against records produced after the commit', async () => {
    // Given the group's lag now, and one more record produced
    const before = JSON.parse((await cli('--json', 'groups', 'describe', GROUP)).stdout).totalLag;
    await kafka.produce(TOPIC, [{ partition: 0, value: 'late' }]);

    // When the group is described again
    const after = JSON.parse((await cli('--json', 'groups', 'describe', GROUP)).stdout);

    // Then the lag grew by that record
    expect(after.totalLag).toBe(before + 1);
    expect(after.partitions[0].logEndOffset).toBe(7);
  });

  it('shows every topic the group has offsets on, or only those asked for', async () => {
    // Given a group that read every record of both topics
    const admin = client().admin();
    await admin.connect();
    const records = (await Promise.all([TOPIC, OTHER].map((t) => admin.fetchTopicOffsets(t))))
      .flat()
      .reduce((sum, p) => sum + Number(p.high), 0);
    await admin.disconnect();
    await consumeAndCommit('two-topics', [TOPIC, OTHER], records);

    // When it is described, and described for one topic
    const every = JSON.parse((await cli('--json', 'groups', 'describe', 'two-topics')).stdout);
    const one = JSON.parse((await cli('--json', 'groups', 'describe', 'two-topics', '--topic', OTHER)).stdout);

    // Then every partition of both topics is shown, or those of the one asked for
    expect(every.partitions.map((p: { topic: string; partition: number }) => `${p.topic}/${p.partition}`)).toEqual([
      `${OTHER}/0`,
      `${TOPIC}/0`,
      `${TOPIC}/1`,
      `${TOPIC}/2`,
    ]);
    expect(every.totalLag).toBe(0);
    expect(one.partitions).toEqual([
      expect.objectContaining({ topic: OTHER, partition: 0, committedOffset: 3, logEndOffset: 3, lag: 0 }),
    ]);
  });

  it("describes the sink's group by default, with the pipeline topic shown even where nothing is committed", async () => {
    // Given the sink's group (<stackName>-sink) committed on one partition only
    await consumeAndCommit('TelemetryTest-sink', [TOPIC], 1);

    // When groups describe runs without a group
    const result = await cli('--json', 'groups', 'describe');

    // Then the sink's group is shown with every partition of the pipeline topic
    expect(result.code).toBe(0);
    const group = JSON.parse(result.stdout);
    expect(group.groupId).toBe('TelemetryTest-sink');
    expect(group.partitions).toHaveLength(3);
    expect(group.partitionsWithoutCommit).toBe(2);
  });

  it('prints fields, a partition table and the note for people', async () => {
    // Given the group as --json shows it
    const json = JSON.parse((await cli('--json', 'groups', 'describe', GROUP)).stdout);

    // When it is described without --json
    const result = await cli('groups', 'describe', GROUP);

    // Then the same figures are printed as fields and a table, and the note goes to stderr
    expect(result.stdout).toMatch(/^Group:\s+lag-test$/m);
    expect(result.stdout).toMatch(/^State:\s+unknown$/m);
    expect(result.stdout).toMatch(new RegExp(`^Total lag:\\s+${json.totalLag}$`, 'm'));
    expect(result.stdout).toMatch(/^TOPIC\s+PARTITION\s+COMMITTED\s+LOG-END\s+LAG\s+OWNER$/m);
    const first = json.partitions[0];
    expect(result.stdout).toMatch(
      new RegExp(
        `^telemetry.readings.v1\\s+0\\s+${first.committedOffset ?? '-'}\\s+${first.logEndOffset}\\s+${first.lag ?? '-'}\\s+-$`,
        'm',
      ),
    );
    expect(result.stderr).toMatch(/^note: the cluster does not answer DescribeGroups/m);
  });

  it('reports a group with no commits as unknown, in one line', async () => {
    // When a group that never committed is described (the mock cannot say more about it)
    const result = await cli('groups', 'describe', 'no-such-group');

    // Then one line says it is unknown
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toBe(
      'error: Kafka consumer group no-such-group does not exist or has committed nothing (see `npx telemetry-ops groups list`)',
    );
  });

  it('reports an unknown --topic', async () => {
    // When the group is described for a topic that does not exist
    const result = await cli('groups', 'describe', GROUP, '--topic', 'no.such.topic');

    // Then one line says so
    expect(oneLineError(result)).toBe(
      'error: Kafka topic no.such.topic does not exist (see `npx telemetry-ops topics list`)',
    );
  });
});

describe('groups list', () => {
  it('says in one line that the local mock cluster does not support it (no ListGroups)', async () => {
    // When groups list runs against the mock cluster
    const result = await cli('groups', 'list');

    // Then one line says the mock offers no ListGroups, and what to run instead
    expect(result.code).toBe(1);
    expect(oneLineError(result)).toMatch(
      /^error: Cannot list Kafka consumer groups: the local Kafka mock cluster at 127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+)* does not support this \((?:it offers no ListGroups request)\); for it, run Kafka from compose\.yaml \(`docker compose up -d --wait kafka`\) and set KAFKA_BROKERS=localhost:9092$/,
    );
  });
});

/** A group member as DescribeGroups returns it, owning `assignment` in the consumer protocol's format. */
const member = (id: string, assignment: Record<string, number[]>): GroupDescription['members'][number] => ({
  memberId: id,
  clientId: `client-${id}`,
  clientHost: `/10.0.0.${id}`,
  memberMetadata: Buffer.alloc(0),
  memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) }),
});

const unsupported = () =>
  Object.assign(new Error('The broker does not support DescribeGroups'), { name: 'KafkaJSServerDoesNotSupportApiKey' });

describe('listGroups', () => {
  it('describes the groups in chunks of 100 and lists them sorted, with state and member count', async () => {
    // Given 150 groups, the last a connector group
    const ids = Array.from({ length: 150 }, (_, i) => `g${String(i).padStart(3, '0')}`);
    const chunks: string[][] = [];
    const admin = {
      listGroups: async () => ({
        groups: [...ids]
          .reverse()
          .map((groupId) => ({ groupId, protocolType: groupId === 'g149' ? 'connect' : 'consumer' })),
      }),
      describeGroups: async (chunk: string[]) => {
        chunks.push(chunk);
        return {
          groups: chunk.map((groupId) => ({
            groupId,
            state: 'Stable',
            members: [member('1', {})],
            protocol: 'range',
            protocolType: 'consumer',
            errorCode: 0,
          })),
        };
      },
    } as unknown as Admin;

    // When they are listed
    const listed = await listGroups(admin);

    // Then two DescribeGroups requests covered them, and each has its state, members and protocol type
    expect(chunks.map((chunk) => chunk.length)).toEqual([100, 50]);
    expect(listed.groups.map((group) => group.groupId)).toEqual(ids);
    expect(listed.groups.at(-1)).toEqual({ groupId: 'g149', protocolType: 'connect', state: 'Stable', members: 1 });
    expect(listed.notes).toEqual([]);
  });

  it('lists the groups without state where the cluster does not answer DescribeGroups, and says so', async () => {
    // Given a cluster with ListGroups but no DescribeGroups
    const admin = {
      listGroups: async () => ({
        groups: [
          { groupId: 'b', protocolType: 'consumer' },
          { groupId: 'a', protocolType: '' },
        ],
      }),
      describeGroups: async () => {
        throw unsupported();
      },
    } as unknown as Admin;

    // When they are listed
    const listed = await listGroups(admin);

    // Then the groups are there with unknown state, and a note says why
    expect(listed.groups).toEqual([
      { groupId: 'a', protocolType: '', state: null, members: null },
      { groupId: 'b', protocolType: 'consumer', state: null, members: null },
    ]);
    expect(listed.notes).toEqual([expect.stringMatching(/does not answer DescribeGroups/)]);
  });
});

describe('describeGroup with DescribeGroups', () => {
  /** One topic of 2 partitions, 10 records each; the group committed 4 on partition 0 and nothing on 1. */
  const admin = (group: Partial<GroupDescription>) =>
    ({
      describeGroups: async (ids: string[]) => ({
        groups: ids.map((groupId) => ({
          groupId,
          members: [],
          protocol: '',
          protocolType: '',
          state: 'Empty',
          errorCode: 0,
          ...group,
        })),
      }),
      listTopics: async () => ['t', '__consumer_offsets'],
      fetchOffsets: async ({ topics }: { topics: string[] }) =>
        topics.map((topic) => ({
          topic,
          partitions: [
            { partition: 0, offset: '4' },
            { partition: 1, offset: '-1' },
          ],
        })),
      fetchTopicOffsets: async () => [
        { partition: 1, low: '0', high: '10', offset: '10' },
        { partition: 0, low: '0', high: '10', offset: '10' },
      ],
    }) as unknown as Admin;

  it("shows the state, each member's assignment and who owns each partition", async () => {
    // Given a stable group whose two members own one partition each
    const stable = admin({
      state: 'Stable',
      protocol: 'cooperative-sticky',
      protocolType: 'consumer',
      members: [member('1', { t: [1] }), member('2', { t: [0] })],
    });

    // When it is described
    const group = await describeGroup(stable, 'sink');

    // Then the members, their assignments, the owners and the lag are shown
    expect(group).toMatchObject({
      state: 'Stable',
      protocol: 'cooperative-sticky',
      protocolType: 'consumer',
      notes: [],
    });
    expect(group.members).toEqual([
      { memberId: '1', clientId: 'client-1', clientHost: '/10.0.0.1', assignment: [{ topic: 't', partitions: [1] }] },
      { memberId: '2', clientId: 'client-2', clientHost: '/10.0.0.2', assignment: [{ topic: 't', partitions: [0] }] },
    ]);
    expect(group.partitions).toEqual([
      {
        topic: 't',
        partition: 0,
        committedOffset: 4,
        earliestOffset: 0,
        logEndOffset: 10,
        lag: 6,
        owner: 'client-2@/10.0.0.2',
      },
      {
        topic: 't',
        partition: 1,
        committedOffset: null,
        earliestOffset: 0,
        logEndOffset: 10,
        lag: null,
        owner: 'client-1@/10.0.0.1',
      },
    ]);
    expect([group.totalLag, group.partitionsWithoutCommit]).toEqual([6, 1]);
  });

  it('shows a member whose assignment is not in the consumer format without one', async () => {
    // Given a member of another protocol (a connector), whose assignment bytes mean something else
    const connector = admin({
      state: 'Stable',
      protocolType: 'connect',
      members: [{ ...member('1', {}), memberAssignment: Buffer.from([0xff, 0xff, 0xff]) }],
    });

    // When the group is described
    const group = await describeGroup(connector, 'connect-cluster');

    // Then the member is listed with no assignment
    expect(group.members).toEqual([expect.objectContaining({ memberId: '1', assignment: [] })]);
  });

  it('reports a Dead group as unknown, in one user error', async () => {
    // Given a group the coordinator reports Dead (DescribeGroups' answer for a name it does not know)
    const dead = admin({ state: 'Dead' });

    // When it is described, Then the error names it
    await expect(describeGroup(dead, 'typo')).rejects.toThrow(
      'Kafka consumer group typo does not exist or has committed nothing (see `npx telemetry-ops groups list`)',
    );
  });
});
