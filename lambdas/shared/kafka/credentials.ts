import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';
import { ConfigurationError } from '../errors';

/**
 * Confluent Cloud API key and secret, stored in Secrets Manager as `{"username": "<API key>", "password": "<API
 * secret>"}`: the shape Lambda's Kafka event source expects for BASIC_AUTH, so the forwarder and the sink's event
 * source mapping share one secret.
 */
export interface KafkaCredentials {
  readonly username: string;
  readonly password: string;
}

const CredentialsSchema = z.object({
  username: z.string().min(1, 'is empty: put the Confluent API key here'),
  password: z.string().min(1, 'is empty: put the Confluent API secret here'),
});

/** How long a fetched secret is reused before Secrets Manager is asked again. */
const CACHE_SECONDS = 300;

/**
 * Reads the credentials, cached per container by Powertools Parameters. `forceFetch` bypasses the cache: used after
 * Kafka rejected the cached credentials, so a fixed secret is picked up without waiting for the cache to expire.
 * Errors name the secret and what is wrong with it, never its value.
 */
export async function loadKafkaCredentials(secretId: string, forceFetch = false): Promise<KafkaCredentials> {
  let raw: unknown;
  try {
    raw = await getSecret(secretId, { transform: 'json', maxAge: CACHE_SECONDS, forceFetch });
  } catch (error) {
    throw new ConfigurationError(
      `Cannot read the Kafka credentials secret ${secretId}: ${(error as Error).name}. It must exist, hold JSON, and be readable by this function.`,
      { cause: error },
    );
  }
  const result = CredentialsSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'value'} ${issue.message}`);
    throw new ConfigurationError(
      `Kafka credentials secret ${secretId} must be JSON {"username": "<API key>", "password": "<API secret>"}: ${problems.join('; ')}`,
    );
  }
  return result.data;
}
