/**
 * The Kafka commands' options: a bad value is refused as a usage error that names the option, and a bad combination
 * as one `error:` line, both before any broker is asked (the brokers here are ones nobody listens on: a command that
 * connected would end in "unreachable" instead).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigDir, run } from '../../kafka/fixture';

const config = new ConfigDir('telemetry.readings.v1');
afterAll(() => config.remove());
const cli = (argv: string[]) => run(argv, { brokers: '127.0.0.1:1', config });

describe('a bad option value', () => {
  it.each([
    [
      ['tail', '--partition', 'x'],
      "option '--partition <n>' argument 'x' is invalid. expected a whole number of at least 0",
    ],
    [
      ['tail', '--offset', '1.5', '--partition', '0'],
      "option '--offset <n>' argument '1.5' is invalid. expected a whole number of at least 0",
    ],
    [
      ['tail', '--max-messages', '0'],
      "option '--max-messages <n>' argument '0' is invalid. expected a whole number of at least 1",
    ],
    [['produce', '--seq', '-1'], "option '--seq <n>' argument '-1' is invalid. expected a whole number of at least 0"],
    [
      ['produce', '--partition', 'one'],
      "option '--partition <n>' argument 'one' is invalid. expected a whole number of at least 0",
    ],
    [['groups', 'describe', '--topic'], "option '--topic <topic>' argument missing"],
    [['topics', 'describe', '--bogus'], "unknown option '--bogus'"],
  ])('%j is a usage error naming the option', async (argv, message) => {
    // Given the arguments from the table, and brokers nobody listens on
    // When the command runs with it
    const result = await cli(argv);

    // Then commander's one error line names it, with the hint to --help, and exit code 1
    expect(result).toEqual({ code: 1, stdout: '', stderr: `error: ${message}\n(add --help for usage)\n` });
  });
});

describe('a bad combination of options', () => {
  it.each([
    [['tail', '--offset', '5'], '--offset needs --partition (an offset means something in one partition only)'],
    [
      ['tail', '--partition', '0', '--offset', '5', '--from-beginning'],
      '--offset and --from-beginning both say where to start: give one',
    ],
    [
      ['tail', '--offset', '5', '--from-beginning'],
      '--offset needs --partition (an offset means something in one partition only); --offset and --from-beginning both say where to start: give one',
    ],
    [['topics', 'describe', 'a', '--all'], 'Name topics or pass --all, not both'],
    [['produce', '--value', 'x', '--file', 'y'], 'Give the value with --value or --file, not both'],
    [
      ['produce', '--value', 'x', '--seq', '1'],
      '--device, --seq and --reading build the value: give them, or --value/--file, not both',
    ],
    [
      ['produce', '--reading', 'temperature=warm', '--reading', 'humidity'],
      '--reading "temperature=warm": expected name=number, e.g. temperature=21.5; --reading "humidity": expected name=number, e.g. temperature=21.5',
    ],
    [['produce', '--header', 'novalue'], '--header "novalue": expected key=value, e.g. trace-id=abc'],
    [
      ['produce', '--file', '/no/such/file'],
      "Cannot read --file /no/such/file: ENOENT: no such file or directory, open '/no/such/file'",
    ],
  ])('%j is named in one error line, every problem at once', async (argv, message) => {
    // Given the combination from the table, and brokers nobody listens on
    // When the command runs with them
    const result = await cli(argv);

    // Then one line names what is wrong, and exit code 1
    expect(result).toEqual({ code: 1, stdout: '', stderr: `error: ${message}\n` });
  });
});
