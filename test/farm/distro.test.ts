/**
 * The example distro built through the farm with the real sandbox (bubblewrap
 * rpmbuild) in `strata worker` processes that run in folders of their own:
 * the RPMs must be byte-identical to a local build's, with the same cache
 * keys, so that a local build afterwards is all cache hits. Then the failure
 * cases: a worker SIGKILLed in the middle of a build, and the coordinator
 * killed mid-build and run again.
 *
 * busybox is left out: it alone takes ten minutes on this machine. The rest
 * (libgreet, greet, tinyinit, filesystem, glibc-runtime) has a dependency
 * chain (greet needs libgreet-devel) and takes seconds per job.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildDistro, type BuildSummary } from '../../src/build/index.js';
import { registerExecutor } from '../../src/build/executors/index.js';
import { loadModel } from '../../src/cli/project.js';
import type { DistroModel } from '../../src/config/model.js';
import { FarmCoordinator } from '../../src/farm/coordinator.js';
import { farmConnectionSettings } from '../../src/farm/connection.js';
import { farmNamespace } from '../../src/farm/subjects.js';
import { memoryLogger } from '../../src/util/log.js';
import { sha256Hex } from '../../src/util/hash.js';
import { CLI, startNatsServer, startWorker, stopWorker, type NatsServer, type WorkerProcess } from './harness.js';

const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const COMPONENTS = ['greet', 'tinyinit', 'filesystem', 'glibc-runtime'];
const ARCH = 'x86_64' as const;
const root = process.getuid?.() === 0;

let server: NatsServer;
let scratch: string;
const processes: WorkerProcess[] = [];
let reference: Map<string, string>;
let referenceKeys: Map<string, string>;

async function copyProject(name: string): Promise<DistroModel> {
  const dir = join(scratch, name);
  for (const entry of ['toolkit.config.toml', 'specs', 'overlays']) await cp(join(REPO, entry), join(dir, entry), { recursive: true });
  return loadModel({ cwd: dir });
}

/** RPM file name → SHA-256 of its bytes, for the repository of one arch. */
async function repoDigests(summary: BuildSummary): Promise<Map<string, string>> {
  const dir = summary.repos[ARCH]!;
  const rpms = (await readdir(dir)).filter((f) => f.endsWith('.rpm')).sort();
  return new Map(await Promise.all(rpms.map(async (f) => [f, sha256Hex(await readFile(join(dir, f)))] as [string, string])));
}

function keysOf(summary: BuildSummary): Map<string, string> {
  return new Map(summary.jobs.map((j) => [j.job, j.key ?? '']));
}

/** Registers `nats` for this model, keeping the coordinator so the test can read its records. */
function useFarm(model: DistroModel): { coordinator: () => FarmCoordinator } {
  let coordinator: FarmCoordinator | undefined;
  registerExecutor('nats', ({ log }) => {
    coordinator = new FarmCoordinator({
      connection: farmConnectionSettings({ url: server.url }, {}),
      namespace: farmNamespace(model.distro.name, model.distro.version),
      log,
      workerPollMs: 500,
    });
    return coordinator;
  });
  return { coordinator: () => coordinator! };
}


function farmWorker(name: string, extra: string[] = []): WorkerProcess {
  // A folder of its own as cwd, HOME and work dir: nothing of the project is reachable by path.
  const workDir = join(scratch, `worker-${name}`);
  const worker = startWorker(server, 'strata-example_1-0', workDir, ['--arch', ARCH, '--ack-wait', '3', '--grace', '5', '-v', ...extra], { HOME: workDir });
  processes.push(worker);
  return worker;
}

/**
 * Each test gets a server of its own: a farm keeps results by cache key, and
 * the copies of the project have identical keys, so on a shared server a later
 * test would find every job already done (which is the point of the farm, but
 * not what these tests look at).
 */
async function freshServer(): Promise<void> {
  await server?.stop();
  server = await startNatsServer();
}

async function farmBuild(model: DistroModel, signal?: AbortSignal): Promise<BuildSummary> {
  return buildDistro(model, { arches: [ARCH], components: COMPONENTS, executor: 'nats', jobs: 4, log: memoryLogger(), signal });
}

describe('the example distro through the farm', { skip: !root && 'bubblewrap builds here run as root', timeout: 900_000 }, () => {
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'strata-farm-distro-'));
    const local = await copyProject('local');
    const summary = await buildDistro(local, { arches: [ARCH], components: COMPONENTS, log: memoryLogger() });
    assert.equal(summary.counts.built, 5);
    reference = await repoDigests(summary);
    referenceKeys = keysOf(summary);
  });

  afterEach(async () => {
    // Whatever a failed test left running.
    for (const w of processes.splice(0)) await stopWorker(w, 5000);
  });

  after(async () => {
    await server?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('two workers build it byte for byte like a local build, and a local build after it is all cache hits', async () => {
    await freshServer();
    const model = await copyProject('farm');
    const workers = [farmWorker('a'), farmWorker('b')];
    try {
      await Promise.all(workers.map((w) => w.waitFor('slot(s) for')));
      useFarm(model);
      const summary = await farmBuild(model);
      assert.equal(summary.counts.built, 5, JSON.stringify(summary.jobs.map((j) => [j.job, j.status, j.reason])));
      assert.deepEqual(await repoDigests(summary), reference);
      assert.deepEqual(keysOf(summary), referenceKeys);
      const after = await buildDistro(model, { arches: [ARCH], components: COMPONENTS, log: memoryLogger() });
      assert.equal(after.counts.cached, 5);
      assert.equal(after.counts.built, 0);
      assert.deepEqual(await repoDigests(after), reference);
    } finally {
      for (const w of workers) await stopWorker(w);
    }
    // Both workers took part (five jobs, a dependency chain, one slot each).
    for (const w of workers) assert.match(w.log(), /succeeded in/, w.log());
  });

  test('a worker killed with SIGKILL mid-build: its job is redelivered and the build completes with identical RPMs', async () => {
    await freshServer();
    const model = await copyProject('sigkill');
    const victim = farmWorker('victim');
    await victim.waitFor('slot(s) for');
    useFarm(model);
    const abort = new AbortController();
    const build = farmBuild(model, abort.signal);
    let survivor: WorkerProcess | undefined;
    try {
      await victim.waitFor(/building \S+/, 120_000);
      // Let the build get under way inside the sandbox, then kill the worker outright.
      await sleep(1000);
      victim.process.kill('SIGKILL');
      assert.equal(await victim.exited, 'SIGKILL');
      survivor = farmWorker('survivor');
      const summary = await build;
      assert.equal(summary.counts.built, 5);
      assert.deepEqual(await repoDigests(summary), reference);
      // The job it was building when it died: started, never reported.
      const started = [...victim.log().matchAll(/building (\S+)/g)].map((m) => m[1]!);
      const killed = started.find((job) => !victim.log().includes(`${job} succeeded`) && !victim.log().includes(`${job} failed`));
      assert.ok(killed, `the victim had finished everything it started:\n${victim.log()}`);
      assert.match(survivor.log(), new RegExp(`${killed.replace('/', '\\/')} redelivered \\(delivery 2\\)`), survivor.log());
    } finally {
      abort.abort();
      await build.catch(() => undefined);
    }
  });

  test('the coordinator killed mid-build and run again reuses what was finished', async () => {
    await freshServer();
    const model = await copyProject('rerun');
    const workers = [farmWorker('c'), farmWorker('d')];
    try {
      await Promise.all(workers.map((w) => w.waitFor('slot(s) for')));
      // The coordinator is the real CLI in a process of its own, so that it can be SIGKILLed.
      const child = spawn(process.execPath, [CLI, '-C', model.root, 'build', ...COMPONENTS, '--arch', ARCH, '--executor', 'nats', '--nats-url', server.url, '-j', '4', '-v'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let childOut = '';
      child.stdout.on('data', (d: Buffer) => (childOut += d.toString()));
      child.stderr.on('data', (d: Buffer) => (childOut += d.toString()));
      // Once a worker has finished a job, kill the coordinator; the other jobs keep running on the workers.
      const deadline = Date.now() + 150_000;
      while (!workers.some((w) => /succeeded in/.test(w.log()))) {
        assert.ok(Date.now() < deadline, `no job finished: ${childOut}`);
        assert.equal(child.exitCode, null, `the coordinator ended early: ${childOut}`);
        await sleep(50);
      }
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      // Let whatever the workers hold finish while nobody listens.
      await sleep(4000);

      const farm = useFarm(model);
      const summary = await farmBuild(model);
      assert.equal(summary.counts.built + summary.counts.cached, 5);
      assert.deepEqual(await repoDigests(summary), reference);
      const records = farm.coordinator().jobRecords();
      // Finished before the kill: filed into the local cache (a hit now) or
      // found in the farm's results; still queued: waited for, not published again.
      const notRebuilt = summary.counts.cached + records.filter((r) => r.reused || r.publishes === 0).length;
      assert.ok(notRebuilt >= 1, `nothing finished before the kill was reused: ${JSON.stringify(records)}`);
      const builtTwice = workers.flatMap((w) => [...w.log().matchAll(/worker: (\S+) succeeded in/g)].map((m) => m[1]));
      assert.equal(new Set(builtTwice).size, builtTwice.length, `a job was built twice: ${builtTwice.join(', ')}`);
    } finally {
      for (const w of workers) await stopWorker(w);
    }
  });
});
