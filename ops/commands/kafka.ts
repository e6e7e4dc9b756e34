/**
 * Kafka commands, the ones operators know from the stock Kafka tools: `topics` (kafka-topics), `groups`
 * (kafka-consumer-groups), `tail` (kafka-console-consumer, committing nothing) and `produce`
 * (kafka-console-producer, one test record with a delivery report). The work is in `ops/kafka/`; this file parses
 * options, picks the pipeline's defaults from the configuration and prints.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Kafka } from 'kafkajs';
import { UserError } from '../../contracts/errors';
import type { OpsContext } from '../context';
import { isConfluentCloud, type KafkaTarget, kafkaCall, withAdmin } from '../kafka/connection';
import type { GroupDescription } from '../kafka/groups';
import type { DeliveryReport } from '../kafka/produce';
import { bytesText, recordText, type ShownRecord } from '../kafka/records';
import {
  createTopic,
  createTopicProblems,
  deleteRefusal,
  deleteTopic,
  describeTopics,
  listTopics,
  parseConfigPairs,
  requireTopics,
  type TopicDescription,
  topicNameProblem,
} from '../kafka/topics';
import { collect, wholeNumber } from '../options';
import { fields, table } from '../output';
import type { CommandGroup, CommandKit } from '../program';

// The modules that speak Kafka through kafkajs load only when their command runs: `--help` never pays for them.
const groupOps = () => import('../kafka/groups');
const produceOps = () => import('../kafka/produce');
const tailOps = () => import('../kafka/tail');

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;

/** The Kafka client and where it points, for one command. */
async function kafkaOf(context: OpsContext): Promise<{ kafka: Kafka; target: KafkaTarget }> {
  return { kafka: await context.kafka(), target: context.kafkaTarget() };
}

/** The pipeline's own topics, which `topics delete` protects. */
const pipelineTopics = (context: OpsContext) => ({
  'telemetry topic': context.config.kafka.topic,
  'sink dead-letter topic': context.sinkDeadLetterTopicName,
});

const sinkGroup = (context: OpsContext) => context.sinkGroupId;

export const kafkaCommands: CommandGroup = (program, kit) => {
  const topics = program
    .command('topics')
    .description('Kafka topics: list, describe, create and delete them (like kafka-topics)');
  registerTopicCommands(topics, kit);

  const groups = program
    .command('groups')
    .description("Kafka consumer groups: list them, and a group's state, members, committed offsets and lag");
  registerGroupCommands(groups, kit);

  registerTail(program, kit);
  registerProduce(program, kit);
};

function registerTopicCommands(topics: Command, kit: CommandKit): void {
  topics
    .command('list')
    .description('List topics with their partition count and replication factor')
    .option('--all', 'include internal topics (names starting with "_": __consumer_offsets, _confluent-…)')
    .addHelpText('after', examples('npx telemetry-ops topics list', 'npx telemetry-ops --json topics list --all'))
    .action(
      kit.action(async (context, options: { all?: boolean }) => {
        const { kafka, target } = await kafkaOf(context);
        const list = await withAdmin(kafka, 'list Kafka topics', target, (admin) =>
          listTopics(admin, { includeInternal: Boolean(options.all) }),
        );
        context.out.result({ topics: list }, (data) =>
          table(data.topics, [
            ['TOPIC', (t) => t.name],
            ['PARTITIONS', (t) => t.partitions],
            ['REPLICATION', (t) => t.replicationFactor],
          ]),
        );
      }),
    );

  topics
    .command('describe')
    .description(
      'Per partition: leader, replicas, in-sync replicas, earliest and latest offsets and message count (default: the pipeline topic)',
    )
    .argument('[topics...]', 'topics to describe (default: kafka.topic of the configuration)')
    .option('--all', 'describe every topic except internal ones')
    .addHelpText(
      'after',
      examples(
        'npx telemetry-ops topics describe',
        'npx telemetry-ops topics describe telemetry.readings.v1.sink-dlt',
        'npx telemetry-ops --json topics describe --all',
      ),
    )
    .action(
      kit.action(async (context, names: string[], options: { all?: boolean }) => {
        if (options.all && names.length > 0) throw new UserError('Name topics or pass --all, not both');
        const { kafka, target } = await kafkaOf(context);
        const described = await withAdmin(kafka, 'describe Kafka topics', target, async (admin) => {
          const chosen = options.all
            ? (await listTopics(admin, { includeInternal: false })).map((t) => t.name)
            : names.length > 0
              ? names
              : [context.config.kafka.topic];
          const progress = context.out.progress('Describing topics', chosen.length);
          try {
            return await describeTopics(admin, chosen, progress);
          } finally {
            progress.stop();
          }
        });
        context.out.result({ topics: described }, (data) => data.topics.map(topicText).join('\n\n'));
      }),
    );

  topics
    .command('create')
    .description('Create a topic (Confluent Cloud requires replication factor 3)')
    .argument('<topic>', 'topic name: letters, digits, ".", "_" and "-", at most 249')
    .option('--partitions <n>', 'partition count (default: kafka.partitions of the configuration)', wholeNumber(1))
    .option('--replication-factor <n>', 'copies of each partition', wholeNumber(1), 3)
    .option('--config <key=value>', 'a topic configuration; repeat for more', collect)
    .option('--dry-run', 'have the cluster validate the request without creating the topic')
    .addHelpText(
      'after',
      examples(
        'npx telemetry-ops topics create telemetry.readings.v1.sink-dlt --partitions 1',
        'npx telemetry-ops topics create telemetry.readings.v2 --partitions 12 --config retention.ms=604800000 --config min.insync.replicas=2',
        'npx telemetry-ops topics create telemetry.readings.v2 --partitions 12 --dry-run',
      ),
    )
    .action(
      kit.action(
        async (
          context,
          topic: string,
          options: { partitions?: number; replicationFactor: number; config?: string[]; dryRun?: boolean },
        ) => {
          // Everything that needs no broker is checked before connecting.
          const nameProblem = topicNameProblem(topic);
          if (nameProblem) throw new UserError(`Cannot create topic: ${nameProblem}`);
          const request = {
            topic,
            partitions: options.partitions ?? context.config.kafka.partitions,
            replicationFactor: options.replicationFactor,
            configs: parseConfigPairs(options.config ?? []),
          };
          const validateOnly = Boolean(options.dryRun);
          const { kafka, target } = await kafkaOf(context);
          await withAdmin(kafka, `create Kafka topic ${topic}`, target, async (admin) => {
            const [cluster, existingTopics] = await Promise.all([admin.describeCluster(), admin.listTopics()]);
            const problems = createTopicProblems(request, {
              brokers: cluster.brokers.length,
              confluentCloud: isConfluentCloud(target),
              existingTopics,
            });
            if (problems.length > 0) throw new UserError(`Cannot create topic ${topic}: ${problems.join('; ')}`);
            await createTopic(admin, request, { validateOnly });
          });
          const configs = Object.entries(request.configs).map(([key, value]) => `${key}=${value}`);
          context.out.result({ ...request, validateOnly, created: !validateOnly }, () =>
            validateOnly
              ? `Dry run: the cluster accepts topic ${topic} (${request.partitions} partitions, replication factor ${request.replicationFactor}${configs.length ? `, ${configs.join(', ')}` : ''}); nothing was created`
              : `Created topic ${topic}: ${request.partitions} partitions, replication factor ${request.replicationFactor}${configs.length ? `, ${configs.join(', ')}` : ''}`,
          );
        },
      ),
    );

  topics
    .command('delete')
    .description("Delete a topic and all its records (refuses the pipeline's own topics without --force)")
    .argument('<topic>', 'topic to delete')
    .option('--yes', 'confirm that the records are to be destroyed')
    .option('--force', "also allow deleting the pipeline's telemetry or dead-letter topic")
    .addHelpText(
      'after',
      examples(
        'npx telemetry-ops topics delete scratch.test --yes',
        'npx telemetry-ops -e dev topics delete telemetry.readings.v1 --yes --force   # stops the pipeline',
      ),
    )
    .action(
      kit.action(async (context, topic: string, options: { yes?: boolean; force?: boolean }) => {
        const refusal = deleteRefusal(
          topic,
          { yes: Boolean(options.yes), force: Boolean(options.force) },
          pipelineTopics(context),
        );
        if (refusal) throw new UserError(refusal);
        const { kafka, target } = await kafkaOf(context);
        await withAdmin(kafka, `delete Kafka topic ${topic}`, target, (admin) => deleteTopic(admin, topic));
        context.out.result({ topic, deleted: true }, () => `Deleted topic ${topic}`);
      }),
    );
}

function topicText(topic: TopicDescription): string {
  const underReplicated = topic.partitions.filter((p) => p.underReplicated).length;
  const offline = topic.partitions.filter((p) => p.leader === null).length;
  return [
    fields({
      Topic: topic.name,
      Partitions: topic.partitionCount,
      'Replication factor': topic.replicationFactor,
      Messages: topic.messages,
      'Under-replicated': underReplicated,
      Offline: offline,
    }),
    table(topic.partitions, [
      ['PARTITION', (p) => p.partition],
      ['LEADER', (p) => p.leader ?? 'none'],
      ['REPLICAS', (p) => p.replicas.join(',')],
      ['ISR', (p) => p.isr.join(',')],
      ['EARLIEST', (p) => p.earliestOffset],
      ['LATEST', (p) => p.latestOffset],
      ['MESSAGES', (p) => p.messages],
    ]),
  ].join('\n');
}

function registerGroupCommands(groups: Command, kit: CommandKit): void {
  groups
    .command('list')
    .description('List consumer groups with their state and member count')
    .addHelpText('after', examples('npx telemetry-ops groups list', 'npx telemetry-ops --json groups list'))
    .action(
      kit.action(async (context) => {
        const { listGroups } = await groupOps();
        const { kafka, target } = await kafkaOf(context);
        const listed = await withAdmin(kafka, 'list Kafka consumer groups', target, async (admin) => {
          const progress = context.out.progress('Describing groups', 0);
          try {
            return await listGroups(admin, progress);
          } finally {
            progress.stop();
          }
        });
        for (const note of listed.notes) context.out.note(`note: ${note}`);
        context.out.result(listed, (data) =>
          table(data.groups, [
            ['GROUP', (g) => g.groupId],
            ['STATE', (g) => g.state ?? 'unknown'],
            ['MEMBERS', (g) => g.members ?? '?'],
            ['PROTOCOL TYPE', (g) => g.protocolType || '-'],
          ]),
        );
      }),
    );

  groups
    .command('describe')
    .description(
      "A group's state and members, and per partition its committed offset, log-end offset and lag (default: the sink's group)",
    )
    .argument('[group]', 'consumer group id (default: sink.consumerGroupId, or <stackName>-sink)')
    .option(
      '--topic <topic>',
      'show only this topic; repeat for more (default: every topic the group has offsets on)',
      collect,
    )
    .addHelpText(
      'after',
      examples(
        'npx telemetry-ops groups describe',
        'npx telemetry-ops groups describe TelemetryPipeline-dev-sink --topic telemetry.readings.v1',
        'npx telemetry-ops --json groups describe | jq .totalLag',
      ),
    )
    .action(
      kit.action(async (context, group: string | undefined, options: { topic?: string[] }) => {
        const { describeGroup } = await groupOps();
        const groupId = group ?? sinkGroup(context);
        const include = groupId === sinkGroup(context) ? [context.config.kafka.topic] : [];
        const { kafka, target } = await kafkaOf(context);
        const described = await withAdmin(kafka, `describe consumer group ${groupId}`, target, async (admin) => {
          const progress = context.out.progress('Reading offsets', 0);
          try {
            return await describeGroup(
              admin,
              groupId,
              { include, ...(options.topic ? { topics: options.topic } : {}) },
              progress,
            );
          } finally {
            progress.stop();
          }
        });
        for (const note of described.notes) context.out.note(`note: ${note}`);
        context.out.result(described, groupText);
      }),
    );
}

function groupText(group: GroupDescription): string {
  const parts = [
    fields({
      Group: group.groupId,
      State: group.state ?? 'unknown',
      Protocol: group.protocol ? `${group.protocolType ?? ''}/${group.protocol}` : (group.protocolType ?? '-'),
      Members: group.members?.length ?? 'unknown',
      'Total lag': group.totalLag,
      'Partitions without commit': group.partitionsWithoutCommit,
    }),
  ];
  if (group.members && group.members.length > 0)
    parts.push(
      table(group.members, [
        ['MEMBER', (m) => m.memberId],
        ['CLIENT', (m) => m.clientId],
        ['HOST', (m) => m.clientHost],
        ['ASSIGNMENT', (m) => m.assignment.map((a) => `${a.topic}:${a.partitions.join(',')}`).join(' ') || '-'],
      ]),
    );
  parts.push(
    table(group.partitions, [
      ['TOPIC', (p) => p.topic],
      ['PARTITION', (p) => p.partition],
      ['COMMITTED', (p) => p.committedOffset],
      ['LOG-END', (p) => p.logEndOffset],
      ['LAG', (p) => p.lag],
      ['OWNER', (p) => p.owner],
    ]),
  );
  return parts.join('\n\n');
}

function registerTail(program: Command, kit: CommandKit): void {
  program
    .command('tail')
    .description(
      'Print records with partition, offset, timestamp, key, headers and value; commits nothing to any consumer group',
    )
    .argument('[topic]', 'topic to read (default: kafka.topic of the configuration)')
    .option('--from-beginning', 'start at the earliest offset kept (default: the newest records)')
    .option('--partition <n>', 'read only this partition', wholeNumber(0))
    .option('--offset <n>', 'start at this offset (needs --partition)', wholeNumber(0))
    .option(
      '--max-messages <n>',
      'stop after this many records (default: 10, or no limit with --follow)',
      wholeNumber(1),
    )
    .option('--follow', 'keep printing new records until Ctrl-C (or --max-messages)')
    .addHelpText(
      'after',
      `${examples(
        'npx telemetry-ops tail                                   # the 10 newest records of the pipeline topic',
        'npx telemetry-ops tail --from-beginning --max-messages 50',
        'npx telemetry-ops tail --partition 3 --offset 1200 --max-messages 5',
        'npx telemetry-ops tail telemetry.readings.v1.sink-dlt --follow',
        'npx telemetry-ops --json tail --max-messages 100 | jq -r ".records[].value"',
      )}
Keys, header values and values are printed as UTF-8 text when printable, as base64:… otherwise. With --follow and
--json, each record is its own JSON document. Reading joins a throwaway consumer group (telemetry-ops-read-<uuid>)
that never commits and is deleted afterwards (or expires on its own where the cluster refuses DeleteGroups).
`,
    )
    .action(
      kit.action(
        async (
          context,
          topicArgument: string | undefined,
          options: {
            fromBeginning?: boolean;
            partition?: number;
            offset?: number;
            maxMessages?: number;
            follow?: boolean;
          },
        ) => {
          const { followTail, partitionOffsets, planTail, readTail, recordsToRead, tailOptionProblems } =
            await tailOps();
          const topic = topicArgument ?? context.config.kafka.topic;
          const problems = tailOptionProblems({ ...options, fromBeginning: Boolean(options.fromBeginning) });
          if (problems.length > 0) throw new UserError(problems.join('; '));
          const { kafka, target } = await kafkaOf(context);
          const plan = await withAdmin(kafka, `read Kafka topic ${topic}`, target, async (admin) => {
            await requireTopics(admin, [topic]);
            return planTail(topic, await partitionOffsets(admin, topic), {
              fromBeginning: Boolean(options.fromBeginning),
              follow: Boolean(options.follow),
              ...(options.partition !== undefined ? { partition: options.partition } : {}),
              ...(options.offset !== undefined ? { offset: options.offset } : {}),
              ...(options.maxMessages !== undefined ? { maxMessages: options.maxMessages } : {}),
            });
          });
          const signal = kit.deps.signal;
          if (plan.follow) {
            context.out.note(`Following ${topic}; Ctrl-C to stop`);
            const { count } = await kafkaCall(`read Kafka topic ${topic}`, target, () =>
              followTail(kafka, plan, (record) => context.out.result(record, recordText), signal),
            );
            context.out.note(`${count} record${count === 1 ? '' : 's'}`);
            return;
          }
          const progress = context.out.progress('Reading records', recordsToRead(plan) ?? 0);
          let read: { records: ShownRecord[]; readerGroup: string };
          try {
            read = await kafkaCall(`read Kafka topic ${topic}`, target, () =>
              readTail(kafka, plan, { signal, progress }),
            );
          } finally {
            progress.stop();
          }
          context.out.result({ topic, ...read }, (data) =>
            data.records.length > 0 ? data.records.map(recordText).join('\n') : `(no records in ${topic})`,
          );
        },
      ),
    );
}

function registerProduce(program: Command, kit: CommandKit): void {
  program
    .command('produce')
    .description(
      'Produce one test record with acks=all and print its delivery report; without a value, a valid telemetry envelope keyed and headed like the forwarder does',
    )
    .argument('[topic]', 'topic to produce to (default: kafka.topic of the configuration)')
    .option('--key <key>', 'record key (default: the envelope deviceId)')
    .option('--value <json|text>', 'the record value, as given')
    .option('--file <path>', 'read the record value from a file')
    .option('--header <key=value>', 'a record header; repeat for more (wins over the forwarder headers)', collect)
    .option('--device <id>', 'device of the generated envelope (default: telemetry-ops-test)')
    .option('--seq <n>', "the device's sequence number: a deterministic event id, as for a real device", wholeNumber(0))
    .option(
      '--reading <name=number>',
      'a reading of the generated envelope; repeat for more (default: temperature=21.5)',
      collect,
    )
    .option('--partition <n>', 'produce to this partition (default: by key, as the forwarder does)', wholeNumber(0))
    .addHelpText(
      'after',
      examples(
        'npx telemetry-ops produce --device sensor-0042 --reading temperature=21.4 --reading humidity=40',
        'npx telemetry-ops produce --device sensor-0042 --seq 7          # same event id each time: the sink stores it once',
        `npx telemetry-ops produce --key sensor-0042 --value '{"not":"an envelope"}'   # exercises the sink's quarantine`,
        'npx telemetry-ops produce scratch.test --file ./record.bin --header source=manual',
      ),
    )
    .action(
      kit.action(
        async (
          context,
          topicArgument: string | undefined,
          options: {
            key?: string;
            value?: string;
            file?: string;
            header?: string[];
            device?: string;
            seq?: number;
            reading?: string[];
            partition?: number;
          },
        ) => {
          const { buildMessage, parseHeaders, parseReadings, produceMessage } = await produceOps();
          const topic = topicArgument ?? context.config.kafka.topic;
          if (options.value !== undefined && options.file !== undefined)
            throw new UserError('Give the value with --value or --file, not both');
          const topicFilter = context.config.iot.topicFilters[0] ?? 'sensors/+/telemetry';
          const message = buildMessage({
            headers: parseHeaders(options.header ?? []),
            topicFilter,
            maxMessageBytes: context.config.limits.maxMessageBytes,
            now: Date.now(),
            ...(options.key !== undefined ? { key: options.key } : {}),
            ...(options.value !== undefined ? { value: options.value } : {}),
            ...(options.file !== undefined ? { value: readValueFile(options.file) } : {}),
            ...(options.device !== undefined ? { device: options.device } : {}),
            ...(options.seq !== undefined ? { seq: options.seq } : {}),
            ...(options.reading ? { readings: parseReadings(options.reading) } : {}),
          });
          if (message.invalidEnvelope)
            context.out.note(
              `note: the value is not a valid telemetry envelope (${message.invalidEnvelope}); the sink will quarantine it`,
            );
          const { kafka, target } = await kafkaOf(context);
          const report = await kafkaCall(`produce to Kafka topic ${topic}`, target, () =>
            produceMessage(kafka, topic, message, options.partition),
          );
          context.out.result(report, reportText);
        },
      ),
    );
}

function readValueFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UserError(`Cannot read --file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function reportText(report: DeliveryReport): string {
  return fields({
    Topic: report.topic,
    Partition: report.partition,
    Offset: report.offset,
    'Base offset': report.baseOffset,
    Timestamp: report.timestamp,
    'Log append time': report.logAppendTime ?? '-',
    Key: bytesText(report.key),
    Headers: Object.entries(report.headers)
      .map(([key, value]) => `${key}=${value}`)
      .join(' '),
    'Value bytes': report.valueBytes,
    'Event id': report.eventId ?? '-',
  });
}
