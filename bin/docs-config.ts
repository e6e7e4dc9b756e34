/**
 * `npm run docs:config`: rewrites the README's configuration reference from the schema (lib/config/reference.ts).
 * No logic lives here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReference, replaceReference } from '../lib/config/reference';

const readme = join(__dirname, '..', 'README.md');
const before = readFileSync(readme, 'utf8');
const after = replaceReference(before, renderReference());
writeFileSync(readme, after);
process.stdout.write(
  after === before
    ? 'README.md: configuration reference up to date\n'
    : 'README.md: configuration reference rewritten\n',
);
