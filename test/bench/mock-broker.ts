/**
 * Runs a librdkafka mock cluster in its own process, so that a benchmark's CPU figures count only the client.
 * Prints one JSON line `{"bootstrapServers": [...]}` when ready; stops when its standard input closes.
 * Usage: node --import tsx test/bench/mock-broker.ts <topic> <partitions> [brokers] [rttMs]
 *
 * `rttMs` delays every response of every broker (`rd_kafka_mock_broker_set_rtt`), modelling a cluster that far
 * away: ~1–2 ms for Confluent Cloud in the function's region, tens of ms across regions.
 */
import { KafkaMockCluster } from '../helpers/kafka-mock';

const [topic = 'bench', partitions = '6', brokers = '3', rttMs = '0'] = process.argv.slice(2);
const cluster = KafkaMockCluster.start({ brokers: Number(brokers) });
cluster.createTopic(topic, Number(partitions));
for (const id of cluster.brokerIds) cluster.setRtt(id, Number(rttMs));
process.stdout.write(`${JSON.stringify({ bootstrapServers: cluster.bootstrapServers })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  cluster.stop();
  process.exit(0);
});
