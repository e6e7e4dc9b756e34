/** `groups list|describe`: the consumer groups there are, and for one its state, members and lag per partition. */
import type { Command } from 'commander';
import type { GroupDescription } from '../../kafka/groups';
import { collect } from '../../options';
import { fields, table } from '../../output';
import type { CommandGroup, CommandKit } from '../../program';
import { examples, kafkaOf } from './shared';

export const groupsCommands: CommandGroup = (program, kit) => {
  const groups = program
    .command('groups')
    .description("Kafka consumer groups: list them, and a group's state, members, committed offsets and lag");
  listCommand(groups, kit);
  describeCommand(groups, kit);
};

function listCommand(groups: Command, kit: CommandKit): void {
  groups
    .command('list')
    .description('List consumer groups with their state and member count')
    .addHelpText('after', examples('npx telemetry-ops groups list', 'npx telemetry-ops --json groups list'))
    .action(
      kit.action(async (context) => {
        const [{ withAdmin }, { listGroups }] = await Promise.all([
          import('../../kafka/connection'),
          import('../../kafka/groups'),
        ]);
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
}

function describeCommand(groups: Command, kit: CommandKit): void {
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
        const [{ withAdmin }, { describeGroup }] = await Promise.all([
          import('../../kafka/connection'),
          import('../../kafka/groups'),
        ]);
        const groupId = group ?? context.sinkGroupId;
        // The sink's group shows the pipeline topic even before its first commit: lag is what an operator asks for.
        const include = groupId === context.sinkGroupId ? [context.config.kafka.topic] : [];
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
