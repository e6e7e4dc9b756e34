/** `topics list|describe`: the topics there are, and per topic its partitions and the configs the pipeline needs. */
import type { Command } from 'commander';
import { UserError } from '../../../contracts/errors';
import type { OpsContext } from '../../context';
import type { PipelineTopicExpectations, TopicDescription } from '../../kafka/topics';
import { fields, table } from '../../output';
import type { CommandGroup, CommandKit } from '../../program';
import { examples, kafkaOf } from './shared';

export const topicsCommands: CommandGroup = (program, kit) => {
  const topics = program
    .command('topics')
    .description('Kafka topics: list them, and describe their partitions and configs (like kafka-topics)');
  listCommand(topics, kit);
  describeCommand(topics, kit);
};

/** The pipeline's own topics, whose configs `topics describe` checks against what the pipeline needs. */
export const pipelineTopics = (
  context: Pick<OpsContext, 'config' | 'sinkDeadLetterTopicName'>,
): Record<string, PipelineTopicExpectations> => ({
  [context.sinkDeadLetterTopicName]: { role: 'sink dead-letter topic' },
  [context.config.kafka.topic]: { role: 'telemetry topic', maxRequestBytes: context.config.kafka.maxRequestBytes },
});

function listCommand(topics: Command, kit: CommandKit): void {
  topics
    .command('list')
    .description('List topics with their partition count and replication factor')
    .option('--all', 'include internal topics (names starting with "_": __consumer_offsets, _confluent-…)')
    .addHelpText('after', examples('npx telemetry-ops topics list', 'npx telemetry-ops --json topics list --all'))
    .action(
      kit.action(async (context, options: { all?: boolean }) => {
        const [{ withAdmin }, { listTopics }] = await Promise.all([
          import('../../kafka/connection'),
          import('../../kafka/topics'),
        ]);
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
}

function describeCommand(topics: Command, kit: CommandKit): void {
  topics
    .command('describe')
    .description(
      'Per partition: leader, replicas, in-sync replicas, earliest and latest offsets and message count; the retention, cleanup, min.insync.replicas, max.message.bytes and timestamp configs, with a note where they put the pipeline at risk (default: the pipeline topic)',
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
        const [{ withAdmin }, { describeTopics, listTopics }] = await Promise.all([
          import('../../kafka/connection'),
          import('../../kafka/topics'),
        ]);
        const { kafka, target } = await kafkaOf(context);
        const described = await withAdmin(kafka, 'describe Kafka topics', target, async (admin) => {
          const chosen = options.all
            ? (await listTopics(admin, { includeInternal: false })).map((t) => t.name)
            : names.length > 0
              ? names
              : [context.config.kafka.topic];
          const progress = context.out.progress('Describing topics', chosen.length);
          try {
            return await describeTopics(admin, chosen, { pipelineTopics: pipelineTopics(context), progress });
          } finally {
            progress.stop();
          }
        });
        for (const note of described.flatMap((topic) => topic.notes)) context.out.note(`note: ${note}`);
        context.out.result({ topics: described }, (data) => data.topics.map(topicText).join('\n\n'));
      }),
    );
}

/** A topic for people: its fields and configs, then a table of its partitions. */
export function topicText(topic: TopicDescription): string {
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
      ...(topic.configs ?? {}),
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
