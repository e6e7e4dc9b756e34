import * as z from 'zod';
import { ConfigurationError } from './errors';

/**
 * Parses environment variables once, at cold start, through a schema. The error names every missing or bad
 * variable, so a misconfigured function fails its first invocation with a message an operator can act on.
 */
export function parseEnvironment<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new ConfigurationError(`Invalid environment: ${problems.join('; ')}`);
}

/** A positive integer read from an environment variable string. */
export const envInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `true`/`false` (case-insensitive) read from an environment variable string. */
export const envBool = z
  .enum(['true', 'false', 'TRUE', 'FALSE', 'True', 'False'])
  .transform((value) => value.toLowerCase() === 'true');

/** A comma-separated list of `host:port` pairs. */
export const envBrokers = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((broker) => broker.trim())
      .filter((broker) => broker.length > 0),
  )
  .pipe(z.array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'expected host:port')).min(1));
