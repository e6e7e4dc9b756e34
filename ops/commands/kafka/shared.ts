/** What the Kafka command modules share: the examples block of their help, and the Kafka client of the context. */
import type { Kafka } from 'kafkajs';
import type { OpsContext } from '../../context';
import type { KafkaTarget } from '../../kafka/connection';

/** The "Examples:" block of a command's help, one `$ …` line each. */
export const examples = (...lines: string[]) => `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;

/** The Kafka client and where it points, for one command. */
export async function kafkaOf(context: OpsContext): Promise<{ kafka: Kafka; target: KafkaTarget }> {
  return { kafka: await context.kafka(), target: context.kafkaTarget() };
}
