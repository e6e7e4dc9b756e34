/**
 * What `local` says when Kafka cannot be had: neither librdkafka (for the mock cluster) nor KAFKA_BROKERS; and that a
 * missing MONGODB_URI is none of its problems (the sink then writes to the in-memory store).
 */
import { describe, expect, it, vi } from 'vitest';
import { redactUri, resolveDependencies } from '../../../tools/local/dependencies';
import { localSettings } from '../../../tools/local/settings';
import { devConfig } from '../../helpers/synth';

vi.mock('../../../tools/kafka-mock/cluster', () => ({
  KafkaMockCluster: {
    start: () => {
      const error = new Error('librdkafka is not installed');
      error.name = 'LibrdkafkaMissingError';
      throw error;
    },
  },
}));

describe('resolveDependencies', () => {
  it('says how to get Kafka without librdkafka; without MONGODB_URI there is no MongoDB problem (the in-memory store)', async () => {
    // Given no librdkafka, no KAFKA_BROKERS and no MONGODB_URI
    // When the local dependencies are resolved
    const failure = resolveDependencies({}, localSettings(devConfig()));

    // Then one user error says how to get Kafka, and MongoDB is no problem
    await expect(failure).rejects.toThrow(
      [
        'Cannot run the pipeline locally:',
        '  - Kafka: no broker. Install librdkafka for the built-in mock cluster (`apt-get install librdkafka1`) or set KAFKA_BROKERS=localhost:9092 (`docker compose up -d kafka kafka-init`)',
      ].join('\n'),
    );
    await expect(failure).rejects.not.toThrow(/MongoDB/);
    await expect(failure).rejects.toMatchObject({ name: 'UserError' });
  });

  it('still names a MONGODB_URI that is not a MongoDB URI, next to the Kafka problem', async () => {
    // Given a MONGODB_URI without its scheme
    // When the local dependencies are resolved
    const failure = resolveDependencies({ MONGODB_URI: 'localhost:27017' }, localSettings(devConfig()));

    // Then the MongoDB problem is listed with the Kafka one
    await expect(failure).rejects.toThrow('  - MongoDB: MONGODB_URI must start with mongodb:// or mongodb+srv://');
  });
});

describe('redactUri', () => {
  it('hides the password of a MongoDB URI and leaves the rest', () => {
    // Given MongoDB URIs with and without a password
    // When they are redacted
    // Then only the password is hidden
    expect(redactUri('mongodb+srv://app:s3cr3t@cluster0.ab1cd.mongodb.net/?retryWrites=true')).toBe(
      'mongodb+srv://app:***@cluster0.ab1cd.mongodb.net/?retryWrites=true',
    );
    expect(redactUri('mongodb://a:27017,b:27017/?replicaSet=rs0')).toBe('mongodb://a:27017,b:27017/?replicaSet=rs0');
  });
});
