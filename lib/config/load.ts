import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { UserError } from '../../contracts/errors';
import { configExamples } from './reference';
import { type PipelineConfig, PipelineConfigSchema } from './schema';

/** A configuration that failed validation; the message lists every problem. */
export class ConfigValidationError extends UserError {
  public override readonly name = 'ConfigValidationError';
}

const examplePath = (path: readonly PropertyKey[]) =>
  path.map((key, i) => (typeof key === 'number' ? '[]' : `${i > 0 ? '.' : ''}${String(key)}`)).join('');

const displayPath = (path: readonly PropertyKey[]) =>
  path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i > 0 ? '.' : ''}${String(key)}`)).join('') ||
  '(root)';

/** The schema's own examples (`.meta()`; a test requires one on every field), read once. */
let schemaExamples: Readonly<Record<string, string>> | undefined;

function describeIssue(issue: z.core.$ZodIssue): string {
  const message = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message;
  schemaExamples ??= configExamples(PipelineConfigSchema);
  const path = examplePath(issue.path);
  const example = schemaExamples[path];
  return `  - ${displayPath(issue.path)}: ${message}${example ? ` (e.g. ${example})` : ''}`;
}

/** Validates a parsed configuration object; throws one error that lists every problem. */
export function parseConfig(raw: unknown, source = 'configuration'): PipelineConfig {
  const result = PipelineConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map(describeIssue);
  throw new ConfigValidationError(`Invalid ${source}:\n${lines.join('\n')}`);
}

/** Reads and validates `config/<env>.json`. */
export function loadConfig(env: string, directory = join(__dirname, '..', '..', 'config')): PipelineConfig {
  if (!/^[A-Za-z0-9_-]+$/.test(env))
    throw new ConfigValidationError(`Invalid environment name "${env}": use letters, digits, "_" and "-"`);
  const file = join(directory, `${env}.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigValidationError(
      `No configuration for environment "${env}": ${file} does not exist (copy config/dev.json)`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigValidationError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(raw, `configuration ${file}`);
}
