/**
 * Runs a librdkafka mock cluster in its own process, so that a benchmark's CPU figures count only the client.
 * Prints one JSON line `{"bootstrapServers": [...]}` when ready; stops when its standard input closes.
 * Usage: node --import tsx test/bench/mock-broker.ts <topic> <partitions> [brokers]
 */
import { KafkaMockCluster } from '../helpers/kafka-mock';

const [topic = 'bench', partitions = '6', brokers = '3'] = process.argv.slice(2);
const cluster = KafkaMockCluster.start({ brokers: Number(brokers) });
cluster.createTopic(topic, Number(partitions));
process.stdout.write(`${JSON.stringify({ bootstrapServers: cluster.bootstrapServers })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  cluster.stop();
  process.exit(0);
});
