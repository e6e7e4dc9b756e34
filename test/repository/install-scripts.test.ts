/**
 * npm 11 reviews dependency install scripts through `allowScripts` in package.json (advisory now, enforced by a
 * later npm: "npm install-scripts", https://docs.npmjs.com/cli/v11/commands/npm-install-scripts). Every package of
 * the lockfile that has an install script must be decided there, or `npm ci` warns (and will one day skip it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const json = (file: string) => JSON.parse(readFileSync(join(root, file), 'utf8'));

describe('allowScripts', () => {
  it('decides every locked package that has an install script', () => {
    // Given the lockfile's packages that run install scripts
    const lock = json('package-lock.json') as { packages: Record<string, { hasInstallScript?: boolean }> };
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));

    // When package.json's allowScripts is read (keys are `name` or `name@version`)
    const allowScripts = (json('package.json') as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};
    const decided = new Set(Object.keys(allowScripts).map((key) => key.replace(/(?<=.)@[^@]*$/, '')));

    // Then each of them is approved or denied there
    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((name) => !decided.has(name))).toEqual([]);
  });
});
