/**
 * What `local` says when a development dependency it runs on is missing (an install with --omit=dev): koffi for the
 * Kafka mock cluster, esbuild for the bundles — named with how to install them, before anything starts.
 */
import { describe, expect, it, vi } from 'vitest';
import { requireDevDependency } from '../../ops/dev-dependency';
import { resolveDependencies } from '../../tools/local/dependencies';
import { localSettings } from '../../tools/local/settings';
import { devConfig } from '../helpers/synth';

// koffi and esbuild are installed here: this install loses them
vi.mock('../../ops/dev-dependency', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../ops/dev-dependency')>();
  const notInstalled = (id: string) => {
    throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
  };
  return {
    ...actual,
    requireDevDependency: <T>(name: string, purpose: string) =>
      actual.requireDevDependency<T>(name, purpose, ['koffi', 'esbuild'].includes(name) ? notInstalled : require),
  };
});

describe('requireDevDependency', () => {
  it('names the module, what needs it and how to install it', () => {
    // Then the error names it, what needs it and the install to run, by its name
    // When it is required
    // Given esbuild missing from this install (mocked above)
    expect(() => requireDevDependency('esbuild', 'bundling')).toThrow(
      'esbuild is not installed: bundling needs it. It is a development dependency: run `npm ci` in the project, without --omit=dev',
    );
    expect(() => requireDevDependency('esbuild', 'bundling')).toThrow(
      expect.objectContaining({ name: 'DevDependencyMissingError' }),
    );
  });

  it('loads what is installed', () => {
    // Then it is the module itself
    // When it is required
    // Given a module that is installed
    expect(requireDevDependency<typeof import('node:path')>('node:path', 'paths').sep).toBe('/');
  });
});

describe('resolveDependencies without the development dependencies', () => {
  it('says how to get koffi (or another Kafka) and esbuild, next to each other (no MongoDB needed: the in-memory store stands in)', async () => {
    // When the local dependencies are resolved
    // Given an install without koffi and esbuild, no KAFKA_BROKERS and no MONGODB_URI
    const failure = resolveDependencies({}, localSettings(devConfig()));

    // Then one user error lists both, each with how to get it
    await expect(failure).rejects.toThrow(
      [
        'Cannot run the pipeline locally:',
        '  - Kafka: no broker. koffi is not installed: the Kafka mock cluster (librdkafka through koffi) needs it. It is a development dependency: run `npm ci` in the project, without --omit=dev; or set KAFKA_BROKERS=localhost:9092 (`docker compose up -d kafka kafka-init`)',
        '  - esbuild: esbuild is not installed: bundling the functions as `cdk synth` does needs it. It is a development dependency: run `npm ci` in the project, without --omit=dev',
      ].join('\n'),
    );
    await expect(failure).rejects.toMatchObject({ name: 'UserError' });
  });
});
