/**
 * Every command's help, read as a newcomer reads it: examples that are spelled one way (`npx telemetry-ops`, which
 * works right after `npm ci`) and that the CLI accepts as written, each default shown once, and `--version`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../../bin/commands';
import { buildProgram } from '../../ops/program';
import { cli } from '../helpers/cli';

const silent = { write: () => true };
const program = () => buildProgram({ io: { stdout: silent, stderr: silent }, environment: {} }, COMMAND_GROUPS);

/** Every command below the program, as the words that name it (`['topics', 'list']`). */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => [[...prefix, sub.name()], ...commandPaths(sub, [...prefix, sub.name()])]);
}

/** A command line as a POSIX shell splits it: quotes, a `# comment` and anything from a pipe on dropped. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (char === "'" || char === '"') {
      const end = line.indexOf(char, i + 1);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (char === ' ') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if ((char === '#' && word === undefined) || char === '|') {
      break;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

const PATHS = commandPaths(program());

/** The example lines (`  $ …`) of every command's help. */
async function examples(): Promise<{ command: string; line: string }[]> {
  const found: { command: string; line: string }[] = [];
  for (const path of [[], ...PATHS]) {
    const help = await cli([...path, '--help']);
    for (const line of help.stdout.split('\n'))
      if (line.startsWith('  $ ')) found.push({ command: path.join(' '), line: line.slice(4) });
  }
  return found;
}

describe('telemetry-ops help', () => {
  it('lists examples for the commands people run', async () => {
    // Given the help of every command
    // When its examples are collected
    // Then there are more than 20
    expect((await examples()).length).toBeGreaterThan(20);
  });

  it('spells every example `npx telemetry-ops`', async () => {
    // Given every example of every command's help
    // When those naming `telemetry-ops` without `npx` are picked out
    const bare = (await examples()).filter(({ line }) => /(^|[^\w-])(?<!npx )telemetry-ops\b/.test(line));
    // Then there is none
    expect(bare).toEqual([]);
  });

  it('gives only examples the CLI accepts as written', async () => {
    // Given every `npx telemetry-ops` example of every command's help
    const rejected: string[] = [];
    // When each is parsed by the real program with its actions stubbed
    for (const { command, line } of await examples()) {
      const words = shellWords(line);
      while (words[0]?.includes('=')) words.shift();
      if (words[0] !== 'npx' || words[1] !== 'telemetry-ops') continue;
      // The real program with every action replaced: only parsing is under test.
      const parser = program();
      const stub = (c: Command): void => {
        if (c.commands.length === 0) c.action(() => {});
        for (const sub of c.commands) stub(sub);
      };
      stub(parser);
      try {
        await parser.parseAsync(words.slice(2), { from: 'user' });
      } catch (error) {
        if (!(error instanceof CommanderError)) throw error;
        rejected.push(`${command}: ${line} → ${error.message}`);
      }
    }
    // Then commander accepted every one
    expect(rejected).toEqual([]);
  });

  it("shows each option's default once: commander's, or the description's when commander shows none", () => {
    // Given every option of every command
    const twice: string[] = [];
    // When those with a default commander shows and a description that says "default" too are picked out
    const visit = (command: Command, path: string) => {
      for (const option of command.options) {
        const shown = option.defaultValue !== undefined && (option.required || option.optional);
        if (shown && /\bdefault\b/i.test(option.description)) twice.push(`${path} ${option.flags}`);
      }
      for (const sub of command.commands) visit(sub, `${path} ${sub.name()}`);
    };
    visit(program(), 'telemetry-ops');

    // Then there is none
    expect(twice).toEqual([]);
  });

  it('prints the version of package.json with --version', async () => {
    // Given the version in package.json
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));

    // When the CLI runs with --version
    const result = await cli(['--version']);

    // Then it prints that version alone and exits 0
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});
