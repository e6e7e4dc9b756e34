/** What `local` says when Kafka cannot be had: neither librdkafka (for the mock cluster) nor KAFKA_BROKERS. */
import { describe, expect, it, vi } from 'vitest';
import { redactUri, resolveDependencies } from '../../../ops/local/dependencies';
import { localSettings } from '../../../ops/local/settings';
import { devConfig } from '../../helpers/synth';

vi.mock('../../../ops/local/kafka-mock-cluster', () => ({
  KafkaMockCluster: {
    start: () => {
      const error = new Error('librdkafka is not installed');
      error.name = 'LibrdkafkaMissingError';
      throw error;
    },
  },
}));

describe('resolveDependencies', () => {
  it('says how to get Kafka without librdkafka, next to the MongoDB problem', async () => {
    const failure = resolveDependencies({}, localSettings(devConfig()));

    await expect(failure).rejects.toThrow(
      [
        'Cannot run the pipeline locally:',
        '  - Kafka: no broker. Install librdkafka for the built-in mock cluster (`apt-get install librdkafka1`) or set KAFKA_BROKERS=localhost:9092 (`docker compose up -d kafka kafka-init`)',
        '  - MongoDB: set MONGODB_URI, e.g. `docker compose up -d mongodb` and MONGODB_URI=mongodb://localhost:27017',
      ].join('\n'),
    );
    await expect(failure).rejects.toMatchObject({ name: 'UserError' });
  });
});

describe('redactUri', () => {
  it('hides the password of a MongoDB URI and leaves the rest', () => {
    expect(redactUri('mongodb+srv://app:s3cr3t@cluster0.ab1cd.mongodb.net/?retryWrites=true')).toBe(
      'mongodb+srv://app:***@cluster0.ab1cd.mongodb.net/?retryWrites=true',
    );
    expect(redactUri('mongodb://a:27017,b:27017/?replicaSet=rs0')).toBe('mongodb://a:27017,b:27017/?replicaSet=rs0');
  });
});
