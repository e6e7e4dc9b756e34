import { Kafka, Partitioners } from 'kafkajs';
import { ConfigurationError } from '../shared/errors';
import { buildKafkaConfig, type KafkaLogSink, type KafkaSettings } from '../shared/kafka/client';
import { loadKafkaCredentials } from '../shared/kafka/credentials';
import type { KafkaSessionFactory } from './kafka-publisher';

/**
 * The real session factory: reads the credentials (cached), builds a kafkajs client with budgets that fit the
 * invocation, and connects a producer and an admin client in parallel.
 */
export function kafkaSessionFactory(settings: KafkaSettings, logSink: KafkaLogSink): KafkaSessionFactory {
  return async (budget, forceCredentialsRefresh) => {
    const credentials = settings.credentialsSecretId
      ? await loadKafkaCredentials(settings.credentialsSecretId, forceCredentialsRefresh)
      : undefined;
    if (credentials && !settings.ssl) {
      throw new ConfigurationError('Refusing to send SASL/PLAIN credentials without TLS: set KAFKA_SSL=true');
    }
    const kafka = new Kafka(buildKafkaConfig(settings, credentials, budget, logSink));
    const producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: false,
      retry: budget.retry,
    });
    const admin = kafka.admin({ retry: budget.retry });
    const close = async () => {
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    };
    try {
      await Promise.all([producer.connect(), admin.connect()]);
    } catch (error) {
      await close();
      throw error;
    }
    return { producer, admin, close };
  };
}
