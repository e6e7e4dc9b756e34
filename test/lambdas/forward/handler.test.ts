/**
 * The forwarder handler's credentials path, with Secrets Manager and SQS mocked (aws-sdk-client-mock) and a real
 * Kafka-protocol broker that offers neither TLS nor SASL: what happens before and around the Kafka connection.
 */
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ForwarderEnvironmentSchema } from '../../../contracts/environment';
import { createHandler, type ForwarderHandler } from '../../../lambdas/forward/create-handler';
import { logger } from '../../../lambdas/shared/powertools';
import { lambdaContext, sqsEvent, sqsRecord, telemetryBatch } from '../../helpers/factories';
import { KafkaMockCluster } from '../../helpers/kafka-mock';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:confluent-AbCdEf';
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/telemetry-ingest-dlq';
const secretsMock = mockClient(SecretsManagerClient);
const sqsMock = mockClient(SQSClient);

let cluster: KafkaMockCluster;
let handler: ForwarderHandler | undefined;

beforeAll(() => {
  cluster = KafkaMockCluster.start({ brokers: 1 });
  cluster.createTopic('telemetry', 3);
});
afterAll(() => cluster.stop());
beforeEach(() => {
  secretsMock.reset();
  sqsMock.reset();
  sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  clearCaches();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await handler?.close();
});

function build(env: Record<string, string>): ForwarderHandler {
  handler = createHandler(
    ForwarderEnvironmentSchema.parse({
      KAFKA_BROKERS: cluster.bootstrapServers.join(','),
      KAFKA_TOPIC: 'telemetry',
      KAFKA_CREDENTIALS_SECRET_ID: SECRET,
      DLQ_URL,
      ...env,
    }),
    new SQSClient({}),
  );
  return handler;
}

/** Every string the handler logged at ERROR, flattened. */
function loggedErrors(spy: { mock: { calls: unknown[][] } }): string {
  return JSON.stringify(spy.mock.calls);
}

describe('forwarder handler: credentials', () => {
  it('reports every valid record, and names the secret and the empty field, when the secret was never filled', async () => {
    // Given a secret that was never filled, five valid records and an invalid one
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '{"username":"","password":""}' });
    const errors = vi.spyOn(logger, 'error');
    const valid = telemetryBatch(5);
    const invalid = sqsRecord('nope');

    // When the batch is handled with TLS on
    const response = await build({ KAFKA_SSL: 'true' })(sqsEvent([...valid, invalid]), lambdaContext(5_000));

    // Then every valid record is retried, the invalid one goes to the DLQ, and the error log names the secret and
    // the empty field
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      valid.map((r) => r.messageId).sort(),
    );
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    expect(loggedErrors(errors)).toMatch(
      /confluent-AbCdEf must be JSON .*username is empty: put the Confluent API key here/,
    );
  });

  it('reads the secret once per cache period, not once per invocation', async () => {
    // Given a filled secret, and one forwarder with TLS on
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '{"username":"KEY","password":"hunter2"}' });
    const errors = vi.spyOn(logger, 'error');
    const forward = build({ KAFKA_SSL: 'true' });

    // When it handles two batches
    // The mock broker speaks no TLS, so each attempt fails after reading the credentials
    const first = await forward(sqsEvent(telemetryBatch(3)), lambdaContext(3_000));
    const second = await forward(sqsEvent(telemetryBatch(3)), lambdaContext(3_000));

    // Then both batches are retried, the secret was read once, and the password is never logged
    expect(first.batchItemFailures).toHaveLength(3);
    expect(second.batchItemFailures).toHaveLength(3);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(secretsMock.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toMatchObject({ SecretId: SECRET });
    expect(loggedErrors(errors)).not.toContain('hunter2');
  });

  it('refuses to send credentials over plaintext', async () => {
    // Given a filled secret
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '{"username":"KEY","password":"hunter2"}' });
    const errors = vi.spyOn(logger, 'error');

    // When a batch is handled with TLS off
    const response = await build({ KAFKA_SSL: 'false' })(sqsEvent(telemetryBatch(2)), lambdaContext(3_000));

    // Then every record is retried, and the error log says it refuses to send the credentials without TLS
    expect(response.batchItemFailures).toHaveLength(2);
    expect(loggedErrors(errors)).toMatch(/Refusing to send SASL\/PLAIN credentials without TLS/);
  });

  it('turns TLS on by default when a secret is configured', () => {
    // Given a configured secret and no KAFKA_SSL
    // When the environment is parsed
    const env = ForwarderEnvironmentSchema.parse({
      KAFKA_BROKERS: 'b:9092',
      KAFKA_TOPIC: 'telemetry',
      KAFKA_CREDENTIALS_SECRET_ID: SECRET,
      DLQ_URL,
    });
    // Then TLS is on, and without a secret it is off
    expect(env.KAFKA_SSL).toBe(true);
    expect(
      ForwarderEnvironmentSchema.parse({ KAFKA_BROKERS: 'b:9092', KAFKA_TOPIC: 'telemetry', DLQ_URL }).KAFKA_SSL,
    ).toBe(false);
  });
});

describe('forwarder environment', () => {
  it('names every missing or bad variable at cold start', async () => {
    // Given a broker without a port, an unknown compression, and no topic or DLQ URL
    const { parseEnvironment } = await import('../../../lambdas/shared/config');
    // When the environment is parsed, Then the error names every missing or bad variable
    expect(() =>
      parseEnvironment(ForwarderEnvironmentSchema, { KAFKA_BROKERS: 'no-port', KAFKA_COMPRESSION: 'zstd' }),
    ).toThrow(
      /Invalid environment: KAFKA_BROKERS\.0: expected host:port.*KAFKA_TOPIC: .*KAFKA_COMPRESSION: .*DLQ_URL: expected the URL of the dead-letter queue/,
    );
  });
});
