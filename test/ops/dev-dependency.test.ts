/**
 * A development dependency that is missing (an install with --omit=dev) is named with what needs it and how to install
 * it; what `local` then says is in test/tools/local/dependencies.omit-dev.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { requireDevDependency } from '../../ops/dev-dependency';

// koffi and esbuild are installed here: this install loses them
vi.mock('../../ops/dev-dependency', async (importOriginal) =>
  (await import('../helpers/without-dev-dependencies')).withoutKoffiAndEsbuild(await importOriginal()),
);

describe('requireDevDependency', () => {
  it('names the module, what needs it and how to install it', () => {
    // Given esbuild missing from this install (mocked above)
    // When it is required
    // Then the error names it, what needs it and the install to run, by its name
    expect(() => requireDevDependency('esbuild', 'bundling')).toThrow(
      'esbuild is not installed: bundling needs it. It is a development dependency: run `npm ci` in the project, without --omit=dev',
    );
    expect(() => requireDevDependency('esbuild', 'bundling')).toThrow(
      expect.objectContaining({ name: 'DevDependencyMissingError' }),
    );
  });

  it('loads what is installed', () => {
    // Given a module that is installed
    // When it is required
    // Then it is the module itself
    expect(requireDevDependency<typeof import('node:path')>('node:path', 'paths').sep).toBe('/');
  });
});
