/**
 * Configurations the variant matrix synthesizes (`test/lib/variant-matrix.test.ts`), and the extreme values they
 * use. Limits come from the schema (`lib/config/schema.ts`), which follows AWS's documented limits.
 */
import type { PipelineConfigInput } from '../../lib/config/schema';

/** The most levels (7 slashes) and bytes (256) an IoT topic filter may have; `i` makes each one distinct. */
export function longestTopicFilter(i: number, length = 256): string {
  const head = `t${String(i).padStart(2, '0')}/+/a/b/c/d/e/`;
  return head + 'x'.repeat(length - head.length);
}

/** The config's maximum: 20 topic filters, each as long as IoT allows. */
export const LONGEST_TOPIC_FILTERS: readonly string[] = Array.from({ length: 20 }, (_, i) => longestTopicFilter(i));

/** The account the imported resources of the environment-agnostic variants live in (`AGNOSTIC_ENVIRONMENT`). */
export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
export const CONFLUENT_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-4333-8444-555555555555`;
export const ATLAS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/mrk-0123456789abcdef0123456789abcdef`;
const secretArn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;

export const NETWORK = {
  vpcId: 'vpc-0123456789abcdef0',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  securityGroupIds: ['sg-0123456789abcdef0'],
};

export interface Variant {
  readonly name: string;
  /** Merged over config/dev.json, section by section (test/helpers/synth.ts). */
  readonly overrides: Partial<Record<keyof PipelineConfigInput, unknown>>;
}

/** The longest rule name prefix the schema allows (`iot.ruleNamePrefix`, 90 characters). */
export const LONGEST_RULE_NAME_PREFIX = 'R'.repeat(90);

export const VARIANTS: readonly Variant[] = [
  { name: 'default (config/dev.json)', overrides: {} },
  { name: 'sink in a VPC', overrides: { sink: { network: NETWORK } } },
  { name: 'on-demand event source', overrides: { sink: { provisionedPollers: null } } },
  {
    name: 'secrets imported by name',
    overrides: {
      kafka: { credentialsSecretName: 'confluent/telemetry' },
      sink: { mongo: { uriSecretName: 'atlas/telemetry' } },
    },
  },
  {
    name: 'secrets imported by ARN',
    overrides: {
      kafka: { credentialsSecretArn: secretArn('confluent/telemetry') },
      sink: { mongo: { uriSecretArn: secretArn('atlas/telemetry') } },
    },
  },
  {
    name: 'secrets imported by name, each with its customer-managed key',
    overrides: {
      kafka: { credentialsSecretName: 'confluent/telemetry', credentialsSecretKmsKeyArn: CONFLUENT_KEY },
      sink: { mongo: { uriSecretName: 'atlas/telemetry', uriSecretKmsKeyArn: ATLAS_KEY } },
    },
  },
  {
    name: 'secrets imported by ARN, each with its customer-managed key',
    overrides: {
      kafka: { credentialsSecretArn: secretArn('confluent/telemetry'), credentialsSecretKmsKeyArn: CONFLUENT_KEY },
      sink: { mongo: { uriSecretArn: secretArn('atlas/telemetry'), uriSecretKmsKeyArn: ATLAS_KEY } },
    },
  },
  {
    // split over as many device policies as the 2,048-character limit needs (lib/ingest/telemetry-ingest.ts)
    name: '20 topic filters with the longest allowed names',
    overrides: { iot: { topicFilters: LONGEST_TOPIC_FILTERS, ruleNamePrefix: LONGEST_RULE_NAME_PREFIX } },
  },
  { name: 'time-series storage', overrides: { sink: { mongo: { timeSeries: true } } } },
  {
    name: 'account and region set, with an alarm e-mail',
    overrides: { account: '123456789012', region: 'eu-central-1', alarms: { email: 'oncall@example.com' } },
  },
];
