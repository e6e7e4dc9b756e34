/**
 * `telemetry-ops` entry: wires the real process (argv, stdout/stderr, environment, Ctrl-C) to the CLI. No logic
 * lives here.
 */
import { runCli } from '../ops/program';
import { COMMAND_GROUPS } from './commands';

const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
// `telemetry-ops … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

runCli(
  process.argv.slice(2),
  { io: { stdout: process.stdout, stderr: process.stderr }, environment: process.env, signal: abort.signal },
  COMMAND_GROUPS,
).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exitCode = 2;
  },
);
