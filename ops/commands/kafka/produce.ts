/**
 * `produce`: one test record with acks=all and its delivery report; without a value, a valid telemetry envelope keyed
 * and headed as the forwarder does, so the sink stores it like any reading.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../../../contracts/errors';
import type { DeliveryReport } from '../../kafka/produce';
import { collect, wholeNumber } from '../../options';
import { fields } from '../../output';
import type { CommandGroup } from '../../program';
import { examples, kafkaOf } from './shared';

interface ProduceCommandOptions {
  key?: string;
  value?: string;
  file?: string;
  header?: string[];
  device?: string;
  seq?: number;
  reading?: string[];
  partition?: number;
}

export const produceCommand: CommandGroup = (program, kit) => {
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
      kit.action(async (context, topicArgument: string | undefined, options: ProduceCommandOptions) => {
        const [{ kafkaCall }, { buildMessage, parseHeaders, parseReadings, produceMessage }] = await Promise.all([
          import('../../kafka/connection'),
          import('../../kafka/produce'),
        ]);
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
      }),
    );
};

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
    Key: report.key ?? '(null)',
    Headers: Object.entries(report.headers)
      .map(([key, value]) => `${key}=${value}`)
      .join(' '),
    'Value bytes': report.valueBytes,
    'Event id': report.eventId ?? '-',
  });
}
