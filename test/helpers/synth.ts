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
 * dev.json with `overrides` merged in at the top level of each section. Merged into the file as written, not into
 * its parsed form: the schema's derived values (rule name prefix, consumer group, …) then follow the overrides.
 */
export function devConfig(overrides: Partial<Record<keyof PipelineConfigInput, unknown>> = {}) {
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
  return parseConfig(merged);
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
