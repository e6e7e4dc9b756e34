/** `tail`: a topic's records as they are, read through a throwaway group that commits nothing. */
import { UserError } from '../../../contracts/errors';
import type { ShownRecord } from '../../kafka/records';
import { wholeNumber } from '../../options';
import type { CommandGroup } from '../../program';
import { examples, kafkaOf } from './shared';

interface TailCommandOptions {
  fromBeginning?: boolean;
  partition?: number;
  offset?: number;
  maxMessages?: number;
  follow?: boolean;
}

export const tailCommand: CommandGroup = (program, kit) => {
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
      kit.action(async (context, topicArgument: string | undefined, options: TailCommandOptions) => {
        const [{ kafkaCall, withAdmin }, { recordText }, { requireTopics }, tail] = await Promise.all([
          import('../../kafka/connection'),
          import('../../kafka/records'),
          import('../../kafka/topics'),
          import('../../kafka/tail'),
        ]);
        const topic = topicArgument ?? context.config.kafka.topic;
        const fromBeginning = Boolean(options.fromBeginning);
        // Mistakes in the options alone are named before connecting.
        const problems = tail.tailOptionProblems({ ...options, fromBeginning });
        if (problems.length > 0) throw new UserError(problems.join('; '));
        const { kafka, target } = await kafkaOf(context);
        const plan = await withAdmin(kafka, `read Kafka topic ${topic}`, target, async (admin) => {
          await requireTopics(admin, [topic]);
          return tail.planTail(topic, await tail.partitionOffsets(admin, topic), {
            fromBeginning,
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
            tail.followTail(kafka, plan, (record) => context.out.result(record, recordText), signal),
          );
          context.out.note(`${count} record${count === 1 ? '' : 's'}`);
          return;
        }
        const progress = context.out.progress('Reading records', tail.recordsToRead(plan) ?? 0);
        let read: { records: ShownRecord[]; readerGroup: string };
        try {
          read = await kafkaCall(`read Kafka topic ${topic}`, target, () =>
            tail.readTail(kafka, plan, { signal, progress }),
          );
        } finally {
          progress.stop();
        }
        context.out.result({ topic, ...read }, (data) =>
          data.records.length > 0 ? data.records.map(recordText).join('\n') : `(no records in ${topic})`,
        );
      }),
    );
};
