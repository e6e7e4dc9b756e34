import { clearCaches } from '@aws-lambda-powertools/parameters';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildKafkaConfig, deriveKafkaBudget } from '../../../../lambdas/shared/kafka/client';
import { loadKafkaCredentials } from '../../../../lambdas/shared/kafka/credentials';
import { RecordingLogger } from '../../../helpers/recorders';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:confluent-AbCdEf';
const secretsMock = mockClient(SecretsManagerClient);

describe('loadKafkaCredentials', () => {
  beforeEach(() => {
    secretsMock.reset();
    clearCaches();
  });

  it('reads the secret once and serves it from cache afterwards', async () => {
    // Given a secret holding a username and a password
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '{"username":"KEY","password":"SECRET"}' });
    // When the credentials are loaded twice
    const first = await loadKafkaCredentials(SECRET);
    const second = await loadKafkaCredentials(SECRET);
    // Then both are the secret's values, read from Secrets Manager once
    expect(first).toEqual({ username: 'KEY', password: 'SECRET' });
    expect(second).toEqual(first);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(secretsMock.commandCalls(GetSecretValueCommand)[0]?.args[0].input.SecretId).toBe(SECRET);
  });

  it('reads again when forced (after Kafka rejected the cached credentials)', async () => {
    // Given a secret whose value changes after the first read
    secretsMock
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: '{"username":"OLD","password":"x"}' })
      .resolves({ SecretString: '{"username":"NEW","password":"y"}' });
    // When the credentials are loaded once
    await loadKafkaCredentials(SECRET);
    // When they are loaded again with force, Then they are the new values
    expect(await loadKafkaCredentials(SECRET, true)).toEqual({ username: 'NEW', password: 'y' });
  });

  it('says which field of a freshly created, unfilled secret is empty, without echoing values', async () => {
    // Given a secret whose username is empty and whose password is set
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '{"username":"","password":"hunter2"}' });
    // When the credentials are loaded
    const error = await loadKafkaCredentials(SECRET).catch((e: unknown) => e as Error);
    // Then a ConfigurationError names the secret and the empty field, and not the password
    expect(error).toMatchObject({ name: 'ConfigurationError' });
    expect((error as Error).message).toMatch(/confluent-AbCdEf.*username is empty: put the Confluent API key here/);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('names the secret when it cannot be read', async () => {
    // Given a secret that does not exist
    secretsMock.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: 'nope', $metadata: {} }));
    // When the credentials are loaded, Then the error names the secret
    await expect(loadKafkaCredentials(SECRET)).rejects.toThrow(
      /Cannot read the Kafka credentials secret .*confluent-AbCdEf/,
    );
  });

  it('rejects a secret that is not JSON', async () => {
    // Given a secret that holds `KEY:SECRET`, not JSON
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'KEY:SECRET' });
    // When the credentials are loaded, Then they are refused as not JSON
    await expect(loadKafkaCredentials(SECRET)).rejects.toThrow(/must exist, hold JSON/);
  });
});

describe('buildKafkaConfig', () => {
  const settings = { clientId: 'fwd', brokers: ['pkc-1.confluent.cloud:9092'], ssl: true };

  it('uses SASL_SSL with PLAIN and explicit connection and authentication timeouts when credentials are given', () => {
    // Given settings with TLS, credentials and a 30 s budget
    // When the Kafka config is built
    const config = buildKafkaConfig(
      settings,
      { username: 'K', password: 'S' },
      deriveKafkaBudget(30_000),
      new RecordingLogger(),
    );
    // Then it is SASL/PLAIN over TLS with explicit connection, authentication and request timeouts
    expect(config).toMatchObject({
      ssl: true,
      sasl: { mechanism: 'plain', username: 'K', password: 'S' },
      connectionTimeout: 4_500,
      authenticationTimeout: 4_500,
      requestTimeout: 7_500,
      enforceRequestTimeout: true,
    });
  });

  it('connects without SASL when there are no credentials (local brokers)', () => {
    // Given settings without TLS, and no credentials
    // When the Kafka config is built
    const config = buildKafkaConfig(
      { ...settings, ssl: false },
      undefined,
      deriveKafkaBudget(30_000),
      new RecordingLogger(),
    );
    // Then it has no SASL and no TLS
    expect(config.sasl).toBeUndefined();
    expect(config.ssl).toBe(false);
  });
});

describe('deriveKafkaBudget', () => {
  it.each([3_000, 10_000, 30_000, 900_000])('keeps connect + request + all back-offs inside %i ms', (remaining) => {
    // Given the remaining time from the table
    // When the budget is derived from it
    const budget = deriveKafkaBudget(remaining);
    // Then all retries' back-offs add up to at most 40 % of it, connecting gets at least 1 s, and a request at most
    // a quarter of it (or 1 s)
    let backoff = 0;
    for (let i = 0, wait = budget.retry.initialRetryTime; i < budget.retry.retries; i++) {
      backoff += wait;
      wait = Math.min(wait * budget.retry.multiplier, budget.retry.maxRetryTime);
    }
    expect(backoff).toBeLessThanOrEqual(remaining * 0.4);
    expect(budget.connectionTimeout).toBeGreaterThanOrEqual(1_000);
    expect(budget.requestTimeout).toBeLessThanOrEqual(Math.max(1_000, remaining * 0.25));
  });
});
