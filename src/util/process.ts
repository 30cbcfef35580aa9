import { execa, type Options as ExecaOptions } from 'execa';
import { StrataError } from './errors.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Replace the environment instead of extending process.env. */
  cleanEnv?: boolean;
  input?: string | Uint8Array;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Don't throw on a non-zero exit; the caller inspects exitCode. */
  allowFailure?: boolean;
  /** Where output goes besides being captured (a job log). */
  logFile?: string;
  maxBuffer?: number;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as the tool wrote them. */
  all: string;
  timedOut: boolean;
}

/**
 * Runs a host tool. A missing tool, a timeout or (unless allowed) a non-zero
 * exit becomes a StrataError naming the command and the tail of its output.
 */
export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const execaOptions: ExecaOptions = {
    cwd: options.cwd,
    env: options.env,
    extendEnv: !options.cleanEnv,
    input: options.input,
    cancelSignal: options.signal,
    timeout: options.timeoutMs,
    reject: false,
    all: true,
    stripFinalNewline: false,
    maxBuffer: options.maxBuffer ?? 256 * 1024 * 1024,
    ...(options.logFile ? { stdout: ['pipe', { file: options.logFile, append: true }], stderr: ['pipe', { file: options.logFile, append: true }] } : {}),
  } as ExecaOptions;
  const result = await execa(command, args, execaOptions);
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  const all = String(result.all ?? stdout + stderr);
  if ((result as { code?: string }).code === 'ENOENT' || (result.failed && result.exitCode === undefined && /ENOENT/.test(String(result.message)))) {
    throw new StrataError(`${command}: command not found`, {
      kind: 'build',
      hint: `install the host packages strata needs: run ./strata doctor`,
    });
  }
  if (result.isCanceled) {
    throw new StrataError(`${command} was cancelled`, { kind: 'interrupted' });
  }
  const exitCode = result.exitCode ?? (result.timedOut ? 124 : 1);
  const outcome: RunResult = { exitCode, stdout, stderr, all, timedOut: Boolean(result.timedOut) };
  if (result.timedOut && !options.allowFailure) {
    throw new StrataError(`${command} timed out after ${Math.round((options.timeoutMs ?? 0) / 1000)} s`, {
      kind: 'build',
      details: tail(all, 20),
    });
  }
  if (exitCode !== 0 && !options.allowFailure) {
    throw new StrataError(`${command} ${args.slice(0, 3).join(' ')}${args.length > 3 ? ' …' : ''} failed with exit status ${exitCode}`, {
      kind: 'build',
      details: tail(all, 20),
    });
  }
  return outcome;
}

/** The last `count` non-empty lines of a tool's output. */
export function tail(text: string, count: number): string[] {
  return text.split('\n').filter((line) => line.trim() !== '').slice(-count);
}

/** True while a process with this pid exists (also when it belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
