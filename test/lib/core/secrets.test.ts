import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config/load';
import { decide } from '../../helpers/access';
import { synthStack } from '../../helpers/synth';
import { TemplatePolicies } from '../../helpers/template-policies';

const CONFLUENT_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-4333-8444-555555555555';
const ATLAS_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef';
const CONFLUENT_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:confluent/telemetry-AbCdEf';

/**
 * Reading a secret encrypted with a customer-managed key needs kms:Decrypt on that key, which Secrets Manager calls
 * on the caller's behalf (AWS Secrets Manager User Guide, "Secret encryption and decryption in AWS Secrets Manager",
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html; the kms:ViaService condition,
 * AWS KMS Developer Guide, https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
 * The Kafka event source reads its secret with the function's execution role (AWS Lambda Developer Guide, "Using
 * Lambda with self-managed Apache Kafka" → execution role permissions,
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-permissions.html).
 */
describe.each([
  {
    imported: 'by ARN',
    kafka: { credentialsSecretArn: CONFLUENT_ARN, credentialsSecretKmsKeyArn: CONFLUENT_KEY },
    mongo: {
      uriSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:atlas/telemetry-AbCdEf',
      uriSecretKmsKeyArn: ATLAS_KEY,
    },
    secrets: ['confluent/telemetry-AbCdEf', 'atlas/telemetry-AbCdEf'],
  },
  {
    imported: 'by name',
    kafka: { credentialsSecretName: 'confluent/telemetry', credentialsSecretKmsKeyArn: CONFLUENT_KEY },
    mongo: { uriSecretName: 'atlas/telemetry', uriSecretKmsKeyArn: ATLAS_KEY },
    secrets: ['confluent/telemetry-Q1w2E3', 'atlas/telemetry-Q1w2E3'],
  },
])('secrets imported $imported with a customer-managed key', ({ kafka, mongo, secrets }) => {
  // Given both secrets imported, each with its own key
  const { template, stack, app } = synthStack({ kafka, sink: { mongo } });
  const policies = new TemplatePolicies(template.toJSON() as never, stack.stackName);
  const roleOf = (fn: { role?: { node: { defaultChild?: unknown } } }) =>
    policies.arnOf(stack.getLogicalId(fn.role?.node.defaultChild as never));
  const forwarder = roleOf(stack.forwarder.function);
  const sink = roleOf(stack.sink.function);
  const [confluentSecret, atlasSecret] = secrets.map(
    (name) => `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${name}`,
  );
  const viaSecretsManager = { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' };
  const can = async (principal: string, action: string, resource: string, context = {}) =>
    (await decide(policies, { principal, action, resource, context })) === 'Allowed';

  it('synthesizes and passes cdk-nag', () => {
    expect(() => app.synth()).not.toThrow();
  });

  it('lets the forwarder decrypt its Confluent secret through Secrets Manager, and only that', async () => {
    expect(await can(forwarder, 'secretsmanager:GetSecretValue', confluentSecret ?? '')).toBe(true);
    expect(await can(forwarder, 'kms:Decrypt', CONFLUENT_KEY, viaSecretsManager)).toBe(true);
    // Then not directly (outside Secrets Manager), and never the Atlas key or secret
    expect(await can(forwarder, 'kms:Decrypt', CONFLUENT_KEY)).toBe(false);
    expect(await can(forwarder, 'kms:Decrypt', ATLAS_KEY, viaSecretsManager)).toBe(false);
    expect(await can(forwarder, 'secretsmanager:GetSecretValue', atlasSecret ?? '')).toBe(false);
  });

  it('lets the sink (and its Kafka event source, which uses its role) decrypt both secrets through Secrets Manager', async () => {
    for (const secret of [confluentSecret, atlasSecret]) {
      expect(await can(sink, 'secretsmanager:GetSecretValue', secret ?? '')).toBe(true);
    }
    for (const key of [CONFLUENT_KEY, ATLAS_KEY]) {
      expect(await can(sink, 'kms:Decrypt', key, viaSecretsManager)).toBe(true);
      expect(await can(sink, 'kms:Decrypt', key)).toBe(false);
      expect(await can(sink, 'kms:Encrypt', key, viaSecretsManager)).toBe(false);
    }
  });
});

describe('secret key configuration', () => {
  const base = { stackName: 'P', kafka: { bootstrapServers: ['b:9092'], topic: 'telemetry' } };
  it('takes a key ARN only for an imported secret, and only a key ARN (not an alias)', () => {
    expect(() => parseConfig({ ...base, kafka: { ...base.kafka, credentialsSecretKmsKeyArn: CONFLUENT_KEY } })).toThrow(
      /kafka\.credentialsSecretKmsKeyArn: only for an imported secret/,
    );
    expect(() => parseConfig({ ...base, sink: { mongo: { uriSecretKmsKeyArn: ATLAS_KEY } } })).toThrow(
      /sink\.mongo\.uriSecretKmsKeyArn: only for an imported secret/,
    );
    expect(() =>
      parseConfig({
        ...base,
        kafka: {
          ...base.kafka,
          credentialsSecretName: 'c',
          credentialsSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:alias/c',
        },
      }),
    ).toThrow(/kafka\.credentialsSecretKmsKeyArn: expected a KMS key ARN/);
  });
});
