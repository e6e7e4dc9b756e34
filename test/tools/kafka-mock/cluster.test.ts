/** Errors pushed on one broker of the mock cluster: returned to the requests it receives, and counted until then. */
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ApiKey, KafkaErrorCode, KafkaMockCluster } from '../../../tools/kafka-mock/cluster';

describe('KafkaMockCluster.pushBrokerRequestErrors', () => {
  it('fails the next requests of that kind on that broker, and counts the errors not returned yet', async () => {
    // Given a one-broker mock cluster and a producer that does not retry
    const cluster = KafkaMockCluster.start({ brokers: 1 });
    const kafka = new Kafka({
      clientId: 'test',
      brokers: [...cluster.bootstrapServers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = kafka.producer();
    try {
      cluster.createTopic('t', 1);
      await producer.connect();
      // And two errors pushed for produce requests on broker 1
      cluster.pushBrokerRequestErrors(1, ApiKey.Produce, [KafkaErrorCode.InvalidRecord, KafkaErrorCode.InvalidRecord]);
      const before = cluster.pendingBrokerRequestErrors(1, ApiKey.Produce);

      // When one produce request is sent
      await expect(producer.send({ topic: 't', messages: [{ value: 'a' }] })).rejects.toThrow();
      const after = cluster.pendingBrokerRequestErrors(1, ApiKey.Produce);

      // Then it fails, one error stays pending, and other request kinds have none
      expect([before, after]).toEqual([2, 1]);
      expect(cluster.pendingBrokerRequestErrors(1, ApiKey.Fetch)).toBe(0);
    } finally {
      await producer.disconnect();
      cluster.stop();
    }
  });
});
