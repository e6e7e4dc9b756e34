/** Synthesizes the pipeline stack for assertions, from a configuration built on config/dev.json. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { applyCompliance } from '../../lib/compliance';
import { parseConfig } from '../../lib/config/load';
import type { PipelineConfigInput } from '../../lib/config/schema';
import { TelemetryPipelineStack } from '../../lib/telemetry-pipeline-stack';

export interface SynthOptions {
  /** Run esbuild as `cdk synth` does. Off by default: assertions do not need the bundle. */
  readonly bundle?: boolean;
  /** Where the cloud assembly goes. @default a temporary directory */
  readonly outdir?: string;
}

/**
 * dev.json as written, with `overrides` merged in at the top level of each section: a configuration file's content.
 * Merged before parsing, so the schema's derived values (rule name prefix, consumer group, …) follow the overrides;
 * a parsed configuration is no input (its derived values are no fields of the file).
 */
export function devConfigInput(overrides: Partial<Record<keyof PipelineConfigInput, unknown>> = {}) {
  const dev = JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'dev.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const merged: Record<string, unknown> = { ...dev };
  for (const [key, value] of Object.entries(overrides)) {
    const base = dev[key];
    merged[key] =
      value && typeof value === 'object' && !Array.isArray(value) && base && typeof base === 'object'
        ? { ...(base as object), ...(value as object) }
        : value;
  }
  return merged;
}

/** dev.json with `overrides` merged in (see `devConfigInput`), parsed. */
export function devConfig(overrides: Parameters<typeof devConfigInput>[0] = {}) {
  return parseConfig(devConfigInput(overrides));
}

/** The feature flags and defaults of cdk.json, so tests synthesize what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;
}

export function synthStack(overrides: Parameters<typeof devConfig>[0] = {}, options: SynthOptions = {}) {
  const app = new App({
    outdir: options.outdir,
    context: { ...cdkJsonContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const config = devConfig(overrides);
  const stack = new TelemetryPipelineStack(app, config.stackName, { config });
  applyCompliance(app);
  return { app, stack, config, template: Template.fromStack(stack) };
}
