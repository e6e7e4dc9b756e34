/**
 * The CLI is spelled one way wherever a reader copies a command from: `npx telemetry-ops …`, which works right
 * after `npm ci` (the repository links its own bin), unlike a bare `telemetry-ops`, which needs a global install.
 * Checked in the README and in every message and help text of the CLI's sources.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** A command as people copy it: in backticks or after a shell prompt, a subcommand following. */
const BARE_COMMAND = /(?:`|\$ )telemetry-ops [a-z-]/;

describe('telemetry-ops commands', () => {
  it.each(['README.md', ...sources('ops'), ...sources('tools'), ...sources('bin')])(
    'are spelled `npx telemetry-ops` in %s',
    (file) => {
      // Given a file a reader copies commands from
      // When its lines are searched for a bare `telemetry-ops <command>` outside comments
      const bare = readFileSync(join(root, file), 'utf8')
        .split('\n')
        .map((line, index) => `${index + 1}: ${line.trim()}`)
        .filter((line) => BARE_COMMAND.test(line) && !line.trimStart().match(/^\d+: (\*|\/\/|\/\*\*)/));

      // Then there is none
      expect(bare).toEqual([]);
    },
  );
});
