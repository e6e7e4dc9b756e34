/**
 * `ops/dev-dependency` as an install without koffi and esbuild (`npm ci --omit=dev`) sees it, for `vi.mock`: koffi
 * and esbuild are installed here, so the loader is told they are not; every other module loads as usual.
 */
import type * as DevDependency from '../../ops/dev-dependency';

export function withoutKoffiAndEsbuild(actual: typeof DevDependency): typeof DevDependency {
  const notInstalled = (id: string) => {
    throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
  };
  return {
    ...actual,
    requireDevDependency: <T>(name: string, purpose: string) =>
      actual.requireDevDependency<T>(name, purpose, ['koffi', 'esbuild'].includes(name) ? notInstalled : require),
  };
}
