import * as z from 'zod/mini';
import { ConfigurationError } from './errors';

/**
 * Parses environment variables once, at cold start, through a schema. The error names every missing or bad
 * variable, so a misconfigured function fails its first invocation with a message an operator can act on.
 */
export function parseEnvironment<S extends z.ZodMiniType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new ConfigurationError(`Invalid environment: ${problems.join('; ')}`);
}

/** An integer within [min, max] read from an environment variable string. */
export const envInt = (min: number, max: number) =>
  z
    .pipe(z.string().check(z.regex(/^-?\d+$/, 'expected an integer')), z.transform(Number))
    .check(z.refine((value) => value >= min && value <= max, `expected an integer from ${min} to ${max}`));

/** `true`/`false` (case-insensitive) read from an environment variable string. */
export const envBool = z.pipe(
  z.string().check(z.regex(/^(true|false)$/i, 'expected true or false')),
  z.transform((value) => value.toLowerCase() === 'true'),
);

/** A comma-separated list of `host:port` pairs. */
export const envBrokers = z
  .pipe(
    z.string(),
    z.transform((value) =>
      value
        .split(',')
        .map((broker) => broker.trim())
        .filter((broker) => broker.length > 0),
    ),
  )
  .check(
    z.refine((brokers) => brokers.length > 0, 'expected at least one host:port'),
    z.refine(
      (brokers) => brokers.every((broker) => /^[A-Za-z0-9.-]+:\d{1,5}$/.test(broker)),
      'expected host:port[,host:port…]',
    ),
  );
