/** The option parsers every command shares (`ops/options.ts`): what each accepts, what it refuses, and the message. */
import { Command, InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { collect, decimal, wholeNumber } from '../../ops/options';

/** The parser's refusal message, or its value when it accepts. */
const parse = <T>(parser: (text: string) => T, text: string): T | string => {
  try {
    return parser(text);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
};

describe('wholeNumber', () => {
  it.each([
    { bounds: [1], text: '1', outcome: 1 },
    { bounds: [1], text: '50', outcome: 50 },
    { bounds: [1], text: ' 7 ', outcome: 7 },
    { bounds: [1], text: '007', outcome: 7 },
    { bounds: [0], text: '0', outcome: 0 },
    { bounds: [1], text: '9007199254740991', outcome: Number.MAX_SAFE_INTEGER },
    { bounds: [1], text: '0', outcome: 'expected a whole number of at least 1' },
    { bounds: [1], text: '-1', outcome: 'expected a whole number of at least 1' },
    { bounds: [1], text: '1.5', outcome: 'expected a whole number of at least 1' },
    { bounds: [1], text: '1e3', outcome: 'expected a whole number of at least 1' },
    { bounds: [1], text: '0x10', outcome: 'expected a whole number of at least 1' },
    { bounds: [1], text: '', outcome: 'expected a whole number of at least 1' },
    { bounds: [1], text: 'ten', outcome: 'expected a whole number of at least 1' },
    { bounds: [1], text: '9007199254740992', outcome: 'expected a whole number of at least 1' },
    { bounds: [0, 1], text: '1', outcome: 1 },
    { bounds: [0, 1], text: '2', outcome: 'expected a whole number from 0 to 1' },
    { bounds: [1, 100_000], text: '100000', outcome: 100_000 },
    { bounds: [1, 100_000], text: '100001', outcome: 'expected a whole number from 1 to 100000' },
  ])('wholeNumber($bounds) on $text gives $outcome', ({ bounds, text, outcome }) => {
    // Given a parser for whole numbers within the bounds
    const parser = wholeNumber(...(bounds as [number, number?]));
    // When it reads the option's text
    const result = parse(parser, text);
    // Then it gives the number, or refuses with the range it expects
    expect(result).toBe(outcome);
  });
});

describe('decimal', () => {
  it.each([
    { bounds: [0, 1], text: '0', outcome: 0 },
    { bounds: [0, 1], text: '0.25', outcome: 0.25 },
    { bounds: [0, 1], text: '1', outcome: 1 },
    { bounds: [0, 1], text: '.5', outcome: 0.5 },
    { bounds: [0, 1], text: '1.01', outcome: 'expected a number from 0 to 1' },
    { bounds: [0, 1], text: '-0.1', outcome: 'expected a number from 0 to 1' },
    { bounds: [0, 1], text: '', outcome: 'expected a number from 0 to 1' },
    { bounds: [0, 1], text: '  ', outcome: 'expected a number from 0 to 1' },
    { bounds: [0, 1], text: 'half', outcome: 'expected a number from 0 to 1' },
    { bounds: [0.001], text: '0.001', outcome: 0.001 },
    { bounds: [0.001], text: '1e3', outcome: 1_000 },
    { bounds: [0.001], text: '0.0009', outcome: 'expected a number of at least 0.001' },
    { bounds: [0.001], text: 'Infinity', outcome: 'expected a number of at least 0.001' },
    { bounds: [0.001, Number.POSITIVE_INFINITY], text: 'Infinity', outcome: Number.POSITIVE_INFINITY },
    { bounds: [0.001, Number.POSITIVE_INFINITY], text: '0', outcome: 'expected a number of at least 0.001' },
  ])('decimal($bounds) on $text gives $outcome', ({ bounds, text, outcome }) => {
    // Given a parser for numbers within the bounds
    const parser = decimal(...(bounds as [number, number?]));
    // When it reads the option's text
    const result = parse(parser, text);
    // Then it gives the number, or refuses with the range it expects
    expect(result).toBe(outcome);
  });
});

describe('collect', () => {
  it.each([
    { given: [], outcome: [] },
    { given: ['ingest-dlq'], outcome: ['ingest-dlq'] },
    { given: ['ingest-dlq', 'quarantine'], outcome: ['ingest-dlq', 'quarantine'] },
    { given: ['a', 'a'], outcome: ['a', 'a'] },
  ])('collects $given as $outcome', ({ given, outcome }) => {
    // Given a repeatable option given these values, in order
    // When commander hands each to collect with what came before
    const collected = given.reduce<string[] | undefined>((previous, value) => collect(value, previous), undefined);
    // Then every value is kept, in order (none when the option is not given)
    expect(collected ?? []).toEqual(outcome);
  });
});

describe('a refusal as the user sees it', () => {
  it.each([
    {
      args: ['--limit', 'x'],
      message: "error: option '--limit <n>' argument 'x' is invalid. expected a whole number of at least 1\n",
    },
    {
      args: ['--rate', '0'],
      message: "error: option '--rate <rate>' argument '0' is invalid. expected a number from 0.5 to 2\n",
    },
  ])('$args is refused with $message', ({ args, message }) => {
    // Given a command with the shared parsers, and commander's output captured
    let stderr = '';
    const command = new Command()
      .exitOverride()
      .configureOutput({ writeErr: (text) => (stderr += text) })
      .option('--limit <n>', 'at most this many', wholeNumber(1))
      .option('--rate <rate>', 'a share', decimal(0.5, 2));
    // When it parses a bad value
    const parsing = () => command.parse(args, { from: 'user' });
    // Then it stops with a usage error naming the option, the value and what it expects
    expect(parsing).toThrow(expect.objectContaining({ code: 'commander.invalidArgument', exitCode: 1 }));
    expect(stderr).toBe(message);
  });
});
