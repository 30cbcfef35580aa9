#!/usr/bin/env node
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from './commands.js';
import { contextFrom, type CommandRunner, type GlobalOptions } from './command.js';
import { StrataError, StrataErrors, errorToJson, exitCodeFor, interrupted, renderError } from '../util/errors.js';
import { paint, colorEnabled } from '../util/log.js';
import { STRATA_VERSION } from '../version.js';

function printErrors(errors: StrataError[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok: false, errors: errors.map(errorToJson) }, null, 2)}\n`);
  }
  const color = colorEnabled();
  for (const error of errors) process.stderr.write(`${paint(color, 'red', 'error:')} ${renderError(error)}\n`);
}

function asStrataErrors(error: unknown): StrataError[] {
  if (error instanceof StrataErrors) return error.errors;
  if (error instanceof StrataError) return [error];
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return [new StrataError(`internal error (a bug in strata): ${message}`, { kind: 'build' })];
}

/**
 * The first SIGINT/SIGTERM aborts the command's signal so that it stops its
 * sandboxes and removes partial files; a second one ends strata at once.
 * Listening with `on` (not `once`) matters: execa re-raises a signal nobody
 * else listens to, which would kill strata before its cleanup ran.
 */
function watchSignals(): { signal: AbortSignal; stop: () => void } {
  const abort = new AbortController();
  const onSignal = (): void => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    stop: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

const runner: CommandRunner = async (spec, args) => {
  const global = args as unknown as GlobalOptions;
  const signals = watchSignals();
  const context = contextFrom(global, signals.signal);
  try {
    const result = await spec.run(args, context);
    if (global.json) {
      process.stdout.write(`${JSON.stringify(result.json ?? {}, null, 2)}\n`);
    } else if (result.text !== undefined && result.text !== '') {
      process.stdout.write(result.text.endsWith('\n') ? result.text : `${result.text}\n`);
    }
    if (result.errors && result.errors.length > 0) printErrors(result.errors, false);
    process.exitCode = result.exitCode ?? 0;
  } catch (error) {
    const errors = signals.signal.aborted ? [interrupted()] : asStrataErrors(error);
    printErrors(errors, global.json);
    process.exitCode = Math.max(...errors.map((e) => exitCodeFor(e.kind)));
  } finally {
    signals.stop();
  }
};

export async function main(argv: string[]): Promise<void> {
  let parser = yargs(argv)
    .scriptName('strata')
    .usage('$0 <command> [options]\n\nDeclarative image-composition builds for RPM-based distributions.')
    .option('C', { type: 'string', describe: 'run on the project in this folder', global: true, requiresArg: true })
    .option('config', { type: 'string', describe: 'path of toolkit.config.toml', global: true, requiresArg: true })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON document on stdout', global: true })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'only errors on stderr', global: true })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'more detail on stderr', global: true })
    .version(STRATA_VERSION)
    .strict()
    .recommendCommands()
    .demandCommand(1, 'name a command; see strata --help')
    .completion('completion', 'print a bash/zsh completion script')
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`error: ${message}\nrun 'strata --help' for usage\n`);
      process.exit(2);
    });
  // Each command module has its own argument type; yargs only needs the common frame.
  for (const define of commands) parser = parser.command(define(runner) as CommandModule<GlobalOptions, unknown>) as typeof parser;
  await parser.parseAsync();
}

main(hideBin(process.argv)).catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
