/**
 * The frame every command file uses: common options, one place that turns a
 * command's result into stdout (text or exactly one JSON document) and an error
 * into its rendering and exit status.
 */
import type { Argv, ArgumentsCamelCase, CommandModule } from 'yargs';
import { createLogger, type Logger } from '../util/log.js';
import type { StrataError } from '../util/errors.js';

export interface GlobalOptions {
  C?: string;
  config?: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

export interface CommandContext {
  /** The folder the project is looked for from (-C, else the current folder). */
  cwd: string;
  /** --config, when given. */
  configPath?: string;
  json: boolean;
  log: Logger;
  /** Aborted on the first SIGINT/SIGTERM: long commands stop their tools and clean up. */
  signal: AbortSignal;
}

export interface CommandResult {
  /** What --json prints (one document). */
  json?: unknown;
  /** What is printed otherwise. */
  text?: string;
  /** 0 unless the command found a problem it reports without throwing (e.g. render --check). */
  exitCode?: number;
  /** Problems reported beside a result (a build's failed jobs): rendered on stderr like thrown ones. */
  errors?: StrataError[];
}

export interface CommandSpec<A> {
  command: string;
  describe: string;
  examples: Array<[string, string]>;
  builder?: (yargs: Argv<GlobalOptions>) => Argv<A>;
  run: (args: ArgumentsCamelCase<A & GlobalOptions>, context: CommandContext) => Promise<CommandResult>;
}

/** Set by main.ts: the result and error handling shared by all commands. */
export type CommandRunner = <A>(spec: CommandSpec<A>, args: ArgumentsCamelCase<A & GlobalOptions>) => Promise<void>;

export function contextFrom(args: GlobalOptions, signal: AbortSignal): CommandContext {
  return {
    signal,
    cwd: args.C ?? process.cwd(),
    configPath: args.config,
    json: args.json,
    log: createLogger(args.quiet ? 'quiet' : args.verbose ? 'verbose' : 'normal'),
  };
}

export function defineCommand<A>(spec: CommandSpec<A>): (runner: CommandRunner) => CommandModule<GlobalOptions, A> {
  return (runner) => ({
    command: spec.command,
    describe: spec.describe,
    builder: (yargs: Argv<GlobalOptions>) => {
      const withArgs = spec.builder ? spec.builder(yargs) : (yargs as unknown as Argv<A>);
      for (const [example, description] of spec.examples) withArgs.example(example, description);
      return withArgs;
    },
    handler: (args: ArgumentsCamelCase<A & GlobalOptions>) => runner(spec, args),
  }) as CommandModule<GlobalOptions, A>;
}

/** `--arch` as most commands take it. */
export function archOption<T>(yargs: Argv<T>) {
  return yargs.option('arch', {
    type: 'string',
    choices: ['x86_64', 'aarch64'] as const,
    describe: 'target architecture (default: the host arch, x86_64)',
  });
}
