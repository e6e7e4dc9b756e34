/** Every Kafka command explains itself: a description, its options and examples, on stdout with exit code 0. */
import { describe, expect, it } from 'vitest';
import { ConfigDir, run } from '../../kafka/fixture';

const COMMANDS = [
  ['topics', 'list'],
  ['topics', 'describe'],
  ['groups', 'list'],
  ['groups', 'describe'],
  ['tail'],
  ['produce'],
];

describe('--help', () => {
  it.each(COMMANDS.map((command) => [command.join(' '), command]))(
    '%s has a description and examples',
    async (_, command) => {
      // Given a configuration and brokers nobody listens on
      const config = new ConfigDir('t');
      try {
        // When the command's help is asked for
        const result = await run([...command, '--help'], { brokers: '127.0.0.1:1', config });

        // Then it is printed on stdout with its examples, exit code 0
        expect(result.code).toBe(0);
        expect(result.stdout).toMatch(new RegExp(`^Usage: telemetry-ops ${command.join(' ')} `));
        expect(result.stdout).toMatch(/\nExamples:\n {2}\$ npx telemetry-ops /);
        expect(result.stderr).toBe('');
      } finally {
        config.remove();
      }
    },
  );
});
