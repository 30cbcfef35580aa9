/**
 * What every local sandbox backend shares: a scratch folder per job under the
 * cache, the bundle turned into folders (job-tree.ts), the sandbox policy
 * (sandbox.ts), and the result read back. A backend only supplies the
 * function that runs a SandboxSpec and a probe.
 */
import { appendFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StrataError, interrupted } from '../../util/errors.js';
import { tail, type RunResult } from '../../util/process.js';
import type { Executor, ExecuteRequest, ExecutorOptions, JobResult, ProbeResult } from '../executor.js';
import { rootLayout } from '../build-root.js';
import { collectArtifacts, failureReason, prepareJob } from '../job-tree.js';
import { jobSandbox, type SandboxSpec } from '../sandbox.js';
import { scratchName } from '../lock.js';

export interface SandboxRunOptions {
  logFile: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export type SandboxRunner = (spec: SandboxSpec, options: SandboxRunOptions) => Promise<RunResult>;

/** Scratch folders of jobs live here (hidden: never part of the cache); a later run removes what a killed one left. */
export function workRoot(cacheDir: string): string {
  return join(cacheDir, '.work');
}

export function createSandboxExecutor(
  name: string,
  runSandbox: SandboxRunner,
  probe: (signal?: AbortSignal) => Promise<ProbeResult>,
  options: ExecutorOptions,
): Executor {
  const execute = async (request: ExecuteRequest): Promise<JobResult> => {
    const { bundle, signal, logFile } = request;
    const started = performance.now();
    const seconds = (): number => Math.round((performance.now() - started) / 10) / 100;
    await mkdir(workRoot(options.cacheDir), { recursive: true });
    const workDir = await mkdtemp(join(workRoot(options.cacheDir), scratchName('', `${bundle.component}-${bundle.arch}-`)));
    await appendFile(logFile, `strata: job ${bundle.job} key ${bundle.key} (${name})\n`);
    const failed = (reason: string, exitCode: number | null, log: string, timedOut = false): JobResult => ({
      job: bundle.job,
      key: bundle.key,
      status: 'failed',
      exitCode,
      timedOut,
      seconds: seconds(),
      artifacts: [],
      reason,
      logTail: tail(log, 25),
    });
    try {
      const prepared = await prepareJob(bundle, request.blobs, workDir, options.cacheDir, logFile, signal);
      const spec = jobSandbox(bundle, prepared, await rootLayout(prepared.rootDir));
      await appendFile(logFile, `strata: ${spec.command.slice(4).join(' ')}\n`);
      const result = await runSandbox(spec, { logFile, signal, timeoutMs: bundle.timeoutSeconds * 1000 });
      if (signal?.aborted) throw interrupted();
      if (result.timedOut) return failed(`timed out after ${bundle.timeoutSeconds} s`, null, result.all, true);
      if (result.exitCode !== 0) return failed(failureReason(result.all) ?? `rpmbuild failed with exit status ${result.exitCode}`, result.exitCode, result.all);
      const artifacts = await collectArtifacts(prepared, request.outputDir);
      if (artifacts.length === 0) return failed('rpmbuild succeeded but wrote no binary RPMs', 0, result.all);
      return { job: bundle.job, key: bundle.key, status: 'succeeded', exitCode: 0, timedOut: false, seconds: seconds(), artifacts, logTail: tail(result.all, 10) };
    } catch (error) {
      if (signal?.aborted || (error instanceof StrataError && error.kind === 'interrupted')) throw interrupted();
      if (!(error instanceof StrataError)) throw error;
      // A job that cannot even be set up (a damaged dependency RPM, a source edited mid-build) failed as a job.
      const log = await readFile(logFile, 'utf8').catch(() => '');
      await appendFile(logFile, `strata: ${error.message}\n${error.details.join('\n')}\n`);
      return failed(error.message, null, `${log}\n${error.details.join('\n')}`);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  };
  return { name, run: execute, probe, close: async () => undefined };
}
