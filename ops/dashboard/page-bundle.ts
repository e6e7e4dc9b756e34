/**
 * The dashboard page, built on first request: `page/main.ts` and uPlot bundled by esbuild into one script and one
 * style sheet, held in memory. Nothing is committed or written to disk, and nothing is fetched from elsewhere.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireDevDependency } from '../dev-dependency';

export interface PageBundle {
  readonly html: string;
  readonly script: string;
  readonly style: string;
}

const PAGE_DIR = join(__dirname, 'page');

/** Bundles the page (esbuild, a development dependency: a clear error names it when missing). */
export async function buildPage(): Promise<PageBundle> {
  const { build } = requireDevDependency<typeof import('esbuild')>('esbuild', 'building the dashboard page');
  const result = await build({
    entryPoints: [join(PAGE_DIR, 'main.ts')],
    bundle: true,
    write: false,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2020'],
    outdir: 'dashboard',
    logLevel: 'silent',
    legalComments: 'none',
  });
  const file = (extension: string) => {
    const output = result.outputFiles.find((f) => f.path.endsWith(extension));
    if (!output) throw new Error(`the dashboard bundle has no ${extension} file`);
    return output.text;
  };
  return { html: readFileSync(join(PAGE_DIR, 'index.html'), 'utf8'), script: file('.js'), style: file('.css') };
}
