/**
 * Kafka commands, the ones an operator of this pipeline needs, as the stock Kafka tools name them: `topics list|
 * describe` (kafka-topics: partitions, leaders and ISR, the configs the pipeline depends on), `groups list|describe`
 * (kafka-consumer-groups: state, members, lag per partition), `tail` (kafka-console-consumer, committing nothing) and
 * `produce` (kafka-console-producer, one test record with a delivery report). Each command is a module of its own
 * here; the work is in `ops/kafka/`, loaded when a command runs. Creating and deleting topics is left to Confluent's
 * tools or IaC, where the pipeline's topics are made (README "Deploying").
 */
import type { CommandGroup } from '../../program';
import { groupsCommands } from './groups';
import { produceCommand } from './produce';
import { tailCommand } from './tail';
import { topicsCommands } from './topics';

export const kafkaCommands: CommandGroup = (program, kit) => {
  topicsCommands(program, kit);
  groupsCommands(program, kit);
  tailCommand(program, kit);
  produceCommand(program, kit);
};
