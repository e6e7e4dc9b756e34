/**
 * The operator CLI: one commander program, a command group per concern. Every action gets an `OpsContext` built
 * from the global options and closed afterwards; user mistakes print one line and exit 1, bugs print a stack and
 * exit 2.
 */
import { Command, CommanderError } from 'commander';
import { isUserError } from '../contracts/errors';
import packageJson from '../package.json';
import type { AwsClients, ContextOptions, OpsContext } from './context';
import { type Io, Output } from './output';

export interface CliDependencies {
  readonly io: Io;
  readonly environment: NodeJS.ProcessEnv;
  /** AWS clients to use instead of building them (tests). */
  readonly clients?: AwsClients;
  /** Where the configuration files are. @default the repository's `config/` */
  readonly configDir?: string;
  /** Aborted on Ctrl-C: long-running commands (tail, simulate) stop cleanly. */
  readonly signal?: AbortSignal;
}

interface GlobalOptions {
  env: string;
  region?: string;
  json?: boolean;
}

export interface CommandKit {
  readonly deps: CliDependencies;
  /** Wraps an action: builds the context from the global options and closes it afterwards. */
  action<A extends unknown[]>(run: (context: OpsContext, ...args: A) => Promise<void>): (...args: A) => Promise<void>;
}

export type CommandGroup = (program: Command, kit: CommandKit) => void;

export function buildProgram(deps: CliDependencies, groups: readonly CommandGroup[]): Command {
  const program = new Command('telemetry-ops')
    .description(
      'Operate the IoT telemetry pipeline: status, a post-deploy verify, failures, Kafka topics and consumer groups, devices, a fleet simulator, the pipeline on this machine, a sensor-data dashboard',
    )
    .option(
      '-e, --env <name>',
      'configuration environment: config/<name>.json',
      deps.environment.TELEMETRY_ENV ?? 'dev',
    )
    .option('--region <region>', 'AWS region (default: the configuration, then AWS_REGION)')
    .option('--json', 'print results as JSON for scripts')
    .version(packageJson.version, '-V, --version', 'print the version of telemetry-ops')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => deps.io.stdout.write(text),
      writeErr: (text) => deps.io.stderr.write(text),
    })
    .exitOverride();

  const kit: CommandKit = {
    deps,
    action:
      (run) =>
      async (...args) => {
        const command = args.at(-1) as Command;
        const globals = command.optsWithGlobals<GlobalOptions>();
        const options: ContextOptions = {
          env: globals.env,
          ...(globals.region ? { region: globals.region } : {}),
          ...(deps.configDir ? { configDir: deps.configDir } : {}),
        };
        // The context (AWS SDK clients, kafkajs, the MongoDB driver, the config loader) loads only when an action runs:
        // `--help` and a mistyped option never pay for it.
        const { OpsContext } = await import('./context');
        const context = new OpsContext(
          options,
          new Output(deps.io, Boolean(globals.json)),
          deps.environment,
          deps.clients,
        );
        try {
          await run(context, ...args);
        } finally {
          await context.close();
        }
      },
  };
  // Commands made with `.command()` inherit the output routing, exit override and help-after-error settings.
  for (const group of groups) group(program, kit);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function runCli(argv: readonly string[], deps: CliDependencies, groups: readonly CommandGroup[]) {
  const program = buildProgram(deps, groups);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (isUserError(error)) {
      deps.io.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    deps.io.stderr.write(`unexpected error (a bug; please report it):\n${(error as Error).stack ?? String(error)}\n`);
    return 2;
  }
}
