/**
 * How a function reads its environment (the schemas are contracts, `contracts/environment.ts`): once, at cold
 * start, failing with one error that names every bad variable.
 */
import type * as z from 'zod';
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
