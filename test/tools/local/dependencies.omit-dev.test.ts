/**
 * What `local` says when a development dependency it runs on is missing (an install with --omit=dev): koffi for the
 * Kafka mock cluster, esbuild for the bundles — named with how to install them, before anything starts.
 */
import { describe, expect, it, vi } from 'vitest';
import { resolveDependencies } from '../../../tools/local/dependencies';
import { localSettings } from '../../../tools/local/settings';
import { devConfig } from '../../helpers/synth';

// koffi and esbuild are installed here: this install loses them
vi.mock('../../../ops/dev-dependency', async (importOriginal) =>
  (await import('../../helpers/without-dev-dependencies')).withoutKoffiAndEsbuild(await importOriginal()),
);

describe('resolveDependencies without the development dependencies', () => {
  it('says how to get koffi (or another Kafka) and esbuild, next to each other (no MongoDB needed: the in-memory store stands in)', async () => {
    // Given an install without koffi and esbuild, no KAFKA_BROKERS and no MONGODB_URI
    // When the local dependencies are resolved
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
