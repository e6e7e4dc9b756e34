/** Which kafkajs errors become one-line user errors that say what to fix, and which stay bugs with their stack. */
import { describe, expect, it } from 'vitest';
import { type KafkaTarget, kafkaUserError } from '../../../ops/kafka/connection';

const local: KafkaTarget = { brokers: ['localhost:9092'], source: 'KAFKA_BROKERS', env: 'dev' };
const cloud: KafkaTarget = { brokers: ['pkc-1.eu-west-1.aws.confluent.cloud:9092'], source: 'config', env: 'prod' };
const named = (name: string, message: string, extra: object = {}) =>
  Object.assign(new Error(message), { name, ...extra });

describe('kafkaUserError', () => {
  it('points rejected credentials at the credentials secret or the environment', () => {
    // Given SASL rejecting the credentials
    const error = named('KafkaJSSASLAuthenticationError', 'SASL PLAIN authentication failed');

    // When it is translated for the configured cluster and for KAFKA_BROKERS
    const configured = kafkaUserError(error, 'list Kafka topics', cloud)?.message;
    const environment = kafkaUserError(error, 'x', local)?.message;

    // Then each says where the credentials come from
    expect(configured).toMatch(
      /^Cannot list Kafka topics: Kafka at pkc-1\.eu-west-1\.aws\.confluent\.cloud:9092 rejected the credentials \(SASL PLAIN authentication failed\); check the API key and secret in the Kafka credentials secret/,
    );
    expect(environment).toMatch(/check KAFKA_USERNAME and KAFKA_PASSWORD$/);
  });

  it('points unreachable configured brokers at the configuration file', () => {
    // Given kafkajs giving up on a connection that timed out
    const error = named('KafkaJSNumberOfRetriesExceeded', 'retries exceeded', {
      cause: named('KafkaJSConnectionError', 'Connection timeout'),
    });

    // When it is translated
    const message = kafkaUserError(error, 'x', cloud)?.message;

    // Then it names the innermost cause and the file to check
    expect(message).toMatch(
      /is unreachable \(Connection timeout\); check kafka\.bootstrapServers in config\/prod\.json/,
    );
  });

  it.each([
    ['TOPIC_AUTHORIZATION_FAILED', /the credentials may not access this topic \(grant the API key a topic ACL/],
    ['GROUP_AUTHORIZATION_FAILED', /the credentials may not access this consumer group/],
    ['CLUSTER_AUTHORIZATION_FAILED', /the credentials may not run cluster operations/],
    ['UNKNOWN_TOPIC_OR_PARTITION', /the topic or partition does not exist/],
    ['INVALID_GROUP_ID', /the group id is not valid/],
    ['GROUP_ID_NOT_FOUND', /the group does not exist/],
  ])('explains the protocol error %s, also inside a kafkajs aggregate', (type, expected) => {
    // Given the broker's error, alone and inside an aggregate
    const error = named('KafkaJSProtocolError', 'broker says no', { type });
    const aggregate = Object.assign(new Error('aggregate'), { name: 'KafkaJSAggregateError', errors: [error] });

    // When they are translated
    const alone = kafkaUserError(error, 'describe consumer group g', cloud)?.message;
    const inside = kafkaUserError(aggregate, 'describe consumer group g', cloud)?.message;

    // Then both say what to fix, with the broker's words
    expect(alone).toMatch(new RegExp(`^Cannot describe consumer group g: ${expected.source}`));
    expect(alone).toContain(`(${type}: broker says no)`);
    expect(inside).toBe(alone);
  });

  it('names the request a cluster does not offer', () => {
    // Given a broker without the API
    const error = named('KafkaJSServerDoesNotSupportApiKey', 'not supported', { apiName: 'DescribeGroups' });

    // When it is translated
    const message = kafkaUserError(error, 'list Kafka consumer groups', cloud)?.message;

    // Then the request is named
    expect(message).toBe(
      'Cannot list Kafka consumer groups: the Kafka cluster at pkc-1.eu-west-1.aws.confluent.cloud:9092 does not support the DescribeGroups request',
    );
  });

  it('leaves other errors alone: they are bugs and keep their stack', () => {
    // Given an error of the code itself, When it is translated, Then it is not a user error
    expect(kafkaUserError(new TypeError('x is undefined'), 'x', local)).toBeUndefined();
  });
});
