/**
 * The `synthetic` backend: an Executor that builds nothing. It checks that
 * every input blob has a local copy (the worker verified each one's digest
 * before calling it), sleeps for the time the bundle asks for, and writes one
 * artifact whose bytes are a function of the bundle's key and its inputs'
 * digests. It exists to measure the farm itself (`bench/farm`) and to exercise
 * worker crashes and redelivery in tests without rpmbuild's minutes; it is a
 * worker `--sandbox` choice, never a default and never used by `strata build`.
 *
 * Bundle knobs (in `env`, which a synthetic bundle has no other use for):
 * STRATA_SYNTHETIC_MS (sleep), STRATA_SYNTHETIC_FAIL=1 (report a failed build),
 * STRATA_SYNTHETIC_OUTPUT_BYTES (pad the artifact to this size, e.g. to send it
 * through the object store rather than by value).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleBlobs, type Executor, type ExecuteRequest, type JobResult } from '../build/executor.js';
import { interrupted, StrataError } from '../util/errors.js';
import { sha256Hex } from '../util/hash.js';

export const SYNTHETIC_SLEEP_ENV = 'STRATA_SYNTHETIC_MS';
export const SYNTHETIC_FAIL_ENV = 'STRATA_SYNTHETIC_FAIL';
export const SYNTHETIC_OUTPUT_BYTES_ENV = 'STRATA_SYNTHETIC_OUTPUT_BYTES';

/** The one artifact a synthetic job produces, and its exact bytes (at least `size` of them). */
export function syntheticArtifact(key: string, inputDigests: readonly string[], size = 0): { file: string; data: Buffer } {
  const text = Buffer.from(`strata synthetic job ${key}\ninputs ${sha256Hex(inputDigests.join('\n'))}\n`);
  return {
    file: `synthetic-${key.slice(0, 16)}.out`,
    data: text.length >= size ? text : Buffer.concat([text, Buffer.alloc(size - text.length, '#')]),
  };
}

export function syntheticExecutor(): Executor {
  return {
    name: 'synthetic',
    async run(request: ExecuteRequest): Promise<JobResult> {
      const started = Date.now();
      const { bundle } = request;
      const digests = bundleBlobs(bundle);
      const missing = digests.find((digest) => !request.blobs.has(digest));
      if (missing !== undefined) throw new StrataError(`blob ${missing} of ${bundle.job} has no local copy`, { kind: 'build' });
      const sleepMs = Number(bundle.env[SYNTHETIC_SLEEP_ENV] ?? '0');
      try {
        await sleep(sleepMs, undefined, { signal: request.signal });
      } catch {
        throw interrupted();
      }
      // A few bytes each: synchronous calls, as for the farm's other small files (see inline.ts).
      appendFileSync(request.logFile, `synthetic job ${bundle.job}: ${digests.length} inputs, slept ${sleepMs} ms\n`);
      const seconds = (Date.now() - started) / 1000;
      if (bundle.env[SYNTHETIC_FAIL_ENV] === '1') {
        appendFileSync(request.logFile, 'error: the bundle asked this synthetic job to fail\n');
        return { job: bundle.job, key: bundle.key, status: 'failed', exitCode: 1, timedOut: false, seconds, artifacts: [], reason: 'synthetic failure requested', logTail: ['error: the bundle asked this synthetic job to fail'] };
      }
      const artifact = syntheticArtifact(bundle.key, digests, Number(bundle.env[SYNTHETIC_OUTPUT_BYTES_ENV] ?? '0'));
      mkdirSync(request.outputDir, { recursive: true });
      // The output folder is the caller's scratch space, trusted only after run() returns: no temp-and-rename needed.
      writeFileSync(join(request.outputDir, artifact.file), artifact.data);
      return {
        job: bundle.job,
        key: bundle.key,
        status: 'succeeded',
        exitCode: 0,
        timedOut: false,
        seconds,
        artifacts: [{ file: artifact.file, sha256: sha256Hex(artifact.data), size: artifact.data.length }],
        logTail: [],
      };
    },
    async probe() {
      return { backend: 'synthetic', ok: true, detail: 'builds nothing; for farm benchmarks and tests' };
    },
    async close() {},
  };
}
