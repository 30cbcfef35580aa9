/**
 * The farm under faults, with the synthetic backend, a real nats-server and
 * real `strata worker` processes: the server stopped (SIGKILL, SIGTERM) and
 * restarted on its store mid-build, workers joining and leaving mid-build,
 * workers SIGKILLed while uploading an output, as they publish their result
 * and between their result and their ack, and a job that ran out of
 * deliveries while no coordinator was listening. In every case each job must
 * be reported once, with exactly the bytes syntheticArtifact() predicts.
 */
import { after, afterEach, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { DigestCache } from '../../src/build/digest-cache.js';
import { bundleBlobs, type JobResult } from '../../src/build/executor.js';
import { FarmCoordinator } from '../../src/farm/coordinator.js';
import { farmConnectionSettings } from '../../src/farm/connection.js';
import { farmNames, type FarmNames } from '../../src/farm/subjects.js';
import { syntheticArtifact, SYNTHETIC_OUTPUT_BYTES_ENV } from '../../src/farm/synthetic.js';
import { parseResultMessage } from '../../src/farm/protocol.js';
import { memoryLogger } from '../../src/util/log.js';
import { startNatsServer, startWorker, stopWorker, syntheticJob, SYNTHETIC_ROOT, type NatsServer, type SyntheticJob, type WorkerProcess } from './harness.js';
import { startNatsTap, startRestartableNats } from './fault-harness.js';

let server: NatsServer;
let dir: string;
let digests: DigestCache;
/** Workers a test started; whatever a failed test left running is stopped after it. */
const workers: WorkerProcess[] = [];

before(async () => {
  server = await startNatsServer();
  dir = await mkdtemp(join(tmpdir(), 'strata-farm-faults-'));
  digests = await DigestCache.open(join(dir, 'cache'));
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => stopWorker(w, 5000)));
});

after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

function coordinator(url: string, namespace: string, lines: string[] = []): FarmCoordinator {
  return new FarmCoordinator({
    connection: farmConnectionSettings({ url }, {}),
    namespace,
    log: memoryLogger(lines),
    workerPollMs: 200,
    reconnectSeconds: 30,
  });
}

/** A synthetic worker for x86_64 jobs; `-v` so that it logs each job it starts. */
function worker(url: string, namespace: string, name: string, ...extra: string[]): WorkerProcess {
  const started = startWorker({ url }, namespace, join(dir, 'workers', namespace, name), [
    '--sandbox', 'synthetic', '--build-root', SYNTHETIC_ROOT, '--arch', 'x86_64', '--ack-wait', '2', '-v', ...extra,
  ]);
  workers.push(started);
  return started;
}

function workerId(w: WorkerProcess): string {
  const id = /worker (\S+): \d+ slot\(s\)/.exec(w.log())?.[1];
  assert.ok(id, `no worker id in:\n${w.log()}`);
  return id;
}

/** Jobs this worker reported as built, in order. */
function built(w: WorkerProcess): string[] {
  return [...w.log().matchAll(/worker: (\S+) succeeded in/g)].map((m) => m[1]!);
}

function outputDir(name: string): string {
  return join(dir, 'out', name);
}

async function runJob(farm: FarmCoordinator, job: SyntheticJob, name: string): Promise<JobResult> {
  await rm(outputDir(name), { recursive: true, force: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  const logFile = join(dir, 'logs', `${name}.log`);
  await writeFile(logFile, '');
  return farm.run({ bundle: job.bundle, blobs: job.blobs, outputDir: outputDir(name), logFile });
}

/** The output folder holds the job's one artifact with exactly the predicted bytes, nothing else. */
async function assertArtifact(job: SyntheticJob, result: JobResult, name: string): Promise<void> {
  assert.equal(result.status, 'succeeded', `${name}: ${JSON.stringify(result)}`);
  const size = Number(job.bundle.env[SYNTHETIC_OUTPUT_BYTES_ENV] ?? 0);
  const expected = syntheticArtifact(job.bundle.key, bundleBlobs(job.bundle), size);
  assert.deepEqual(await readdir(outputDir(name)), [expected.file], name);
  assert.deepEqual(await readFile(join(outputDir(name), expected.file)), expected.data, name);
  assert.deepEqual(result.artifacts.map((a) => a.file), [expected.file], name);
}

async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `explain`: what to add to the error when the wait times out. */
async function until(what: string, ms: number, check: () => boolean | Promise<boolean>, explain?: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${explain ? `\n${await explain()}` : ''}`);
    await sleep(50);
  }
}

/** `outputBytes`: pads the artifact so that it goes through the object store instead of inside the result. */
async function jobs(namespace: string, count: number, sleepMs: number, outputBytes?: (i: number) => number): Promise<SyntheticJob[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => syntheticJob(dir, `${namespace}-${i}`, { digests, sleepMs, outputBytes: outputBytes?.(i) })));
}

/** A test's own client: it reconnects for as long as the test runs, across server restarts. */
function observer(url: string): Promise<NatsConnection> {
  return connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
}

/** Messages left in the namespace's job queue. */
async function queued(nc: NatsConnection, namespace: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(farmNames(namespace).jobStream)).state.messages;
}

/** Jobs a worker has yet to take or finish: undelivered or in progress, over the namespace's queues. */
async function outstanding(nc: NatsConnection, namespace: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  let count = 0;
  for await (const info of jsm.consumers.list(farmNames(namespace).jobStream)) count += info.num_pending + info.num_ack_pending;
  return count;
}

/** The job queue's messages and its consumers' state, for a failure message. */
async function queueState(nc: NatsConnection, namespace: string): Promise<string> {
  const jsm = await jetstreamManager(nc);
  const stream = farmNames(namespace).jobStream;
  const lines = [`stream: ${JSON.stringify((await jsm.streams.info(stream)).state)}`];
  for await (const info of jsm.consumers.list(stream)) {
    const { delivered, ack_floor, num_ack_pending, num_pending, num_redelivered } = info;
    lines.push(`consumer ${info.name}: ${JSON.stringify({ delivered, ack_floor, num_ack_pending, num_pending, num_redelivered })}`);
  }
  return lines.join('\n');
}

/** Counts the 'built' results workers publish, per job key (a rebuild after a crash publishes a second one). */
function countResults(nc: NatsConnection, namespace: string): Map<string, number> {
  const counts = new Map<string, number>();
  nc.subscribe(farmNames(namespace).allResults, {
    callback: (error, msg) => {
      if (error) return;
      const result = parseResultMessage(msg.data);
      if (result.outcome === 'built') counts.set(result.key, (counts.get(result.key) ?? 0) + 1);
    },
  });
  return counts;
}

describe('farm faults', { timeout: 90_000 }, () => {
  /**
   * Jobs running and queued when the server goes away and comes back on the
   * same port and store. Jobs may fail (clearly) and are then run again by a
   * new coordinator; either way each is reported once with its exact bytes.
   */
  async function restartMidBuild(t: TestContext, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const ns = `restart_${signal.toLowerCase()}`;
    const nats = await startRestartableNats();
    const lines: string[] = [];
    let farm = coordinator(nats.url, ns, lines);
    // Half the outputs travel inside the result, half through the object store.
    const todo = await jobs(ns, 12, 700, (i) => (i % 2 === 0 ? 0 : 40_000));
    try {
      const pool = [worker(nats.url, ns, 'a', '-j', '2'), worker(nats.url, ns, 'b', '-j', '2')];
      await Promise.all(pool.map((w) => w.waitFor('slot(s) for')));
      const finished: string[] = [];
      const first = todo.map((job, i) =>
        runJob(farm, job, `${ns}-${i}`).then((result) => {
          finished.push(job.bundle.key);
          return result;
        }),
      );
      // Some jobs are done, others are running or queued: stop the server.
      await until('two jobs to finish', 30_000, () => finished.length >= 2);
      await nats.kill(signal);
      await sleep(1500);
      await nats.start();

      const settled = await within(60_000, 'the build across the restart', Promise.allSettled(first));
      const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [i] : []));
      t.diagnostic(`${failed.length} of ${todo.length} jobs failed across the restart and were run again`);
      t.diagnostic(`${lines.filter((l) => /will not be delivered again/.test(l)).length} job(s) found stranded in the queue and published again`);
      for (const i of failed) {
        const reason = (settled[i] as PromiseRejectedResult).reason as Error;
        // Failing is allowed, but only clearly: a StrataError saying what to do, not a stray client error.
        assert.equal(reason.name, 'StrataError', `${todo[i]!.bundle.job}: ${reason.stack}`);
      }
      // The rerun a user would start: only what failed, by a new coordinator.
      await farm.close();
      farm = coordinator(nats.url, ns, lines);
      const rerun = await within(60_000, 'the rerun', Promise.all(failed.map((i) => runJob(farm, todo[i]!, `${ns}-${i}`))));
      for (const [i, s] of settled.entries()) {
        const result = s.status === 'fulfilled' ? s.value : rerun[failed.indexOf(i)]!;
        await assertArtifact(todo[i]!, result, `${ns}-${i}`);
      }
      // Nothing is left for a worker to build again. (A message acked before the kill can
      // come back with the restarted server, its consumer already past it: never delivered.)
      const nc = await observer(nats.url);
      try {
        await until('no job to be outstanding', 20_000, async () => (await outstanding(nc, ns)) === 0, () => queueState(nc, ns));
      } finally {
        await nc.close();
      }
      // A rerun of the whole build takes every job from the stored results and waits on none.
      await farm.close();
      farm = coordinator(nats.url, ns, lines);
      const again = await within(20_000, 'a rerun of every job', Promise.all(todo.map((job, i) => runJob(farm, job, `${ns}-again-${i}`))));
      for (const [i, result] of again.entries()) await assertArtifact(todo[i]!, result, `${ns}-again-${i}`);
      assert.ok(farm.jobRecords().every((r) => r.reused && r.publishes === 0), JSON.stringify(farm.jobRecords()));
    } finally {
      await farm.close();
      await Promise.all(workers.splice(0).map((w) => stopWorker(w, 5000)));
      await nats.stop();
    }
  }

  test('nats-server SIGKILLed mid-build and restarted on its store: every job is reported once with its exact bytes', (t) => restartMidBuild(t, 'SIGKILL'));
  test('nats-server stopped (SIGTERM) mid-build and restarted on its store: every job is reported once with its exact bytes', (t) => restartMidBuild(t, 'SIGTERM'));

  test('workers join and leave mid-build: every job is built once and reported once', async () => {
    const ns = 'churn_1';
    const nc = await observer(server.url);
    const results = countResults(nc, ns);
    const farm = coordinator(server.url, ns);
    const todo = await jobs(ns, 12, 800);
    const first = worker(server.url, ns, 'first', '--grace', '10');
    /** The build a worker started last, and how many it has started. */
    const building = (w: WorkerProcess): { job: string | undefined; count: number } => {
      const started = [...w.log().matchAll(/^worker: building (\S+)$/gm)].map((m) => m[1]!);
      return { job: started.at(-1), count: started.length };
    };
    try {
      await first.waitFor('slot(s) for');
      const runs = todo.map((job, i) => runJob(farm, job, `${ns}-${i}`));
      await until('the first worker to build two jobs', 20_000, () => built(first).length >= 2);
      const joined = worker(server.url, ns, 'joined', '-j', '2');
      // No grace: SIGTERM hands its running build straight back.
      const leaver = worker(server.url, ns, 'leaver', '--grace', '0');
      await leaver.waitFor(/building churn_1-\d+\/x86_64/);
      assert.equal(await stopWorker(leaver), 0, leaver.log());
      assert.match(leaver.log(), new RegExp(`^worker: handed ${building(leaver).job} back$`, 'm'));
      // With grace, SIGTERM lets the running build finish and report (a job taken
      // ahead of a free slot is handed back unbuilt, which is fine).
      const startedBefore = building(first).count;
      await until('the first worker to start another build', 20_000, () => building(first).count > startedBefore, async () => first.log());
      const finishing = building(first).job!;
      assert.equal(await stopWorker(first), 0, first.log());
      assert.doesNotMatch(first.log(), /^worker: handed \S+ back$/m);
      assert.ok(built(first).includes(finishing), `the first worker did not finish ${finishing}:\n${first.log()}`);

      const finished = await within(30_000, 'the build', Promise.all(runs));
      for (const [i, result] of finished.entries()) await assertArtifact(todo[i]!, result, `${ns}-${i}`);
      assert.equal(new Set(farm.jobRecords().map((r) => r.key)).size, todo.length);
      // Built exactly once across all workers: a handed-back job is rebuilt, never reported twice.
      const all = [first, joined, leaver].flatMap(built).sort();
      assert.deepEqual(all, todo.map((j) => j.bundle.job).sort());
      assert.ok(built(joined).length >= 1, `the joined worker built nothing:\n${joined.log()}`);
      await until('every result to reach the observer', 5000, () => results.size === todo.length);
      assert.deepEqual([...results.values()], todo.map(() => 1));
      // A worker acks just after its result, so the last ack may still be on its way.
      await until('the queue to drain', 5000, async () => (await queued(nc, ns)) === 0, () => queueState(nc, ns));
    } finally {
      await farm.close();
      await nc.close();
    }
  });

  /**
   * The victim reaches the server only through a tap, which cuts it off and
   * SIGKILLs it the moment it sends what `cutAt` names: that never arrives, the
   * job is redelivered after the ack wait to a worker started only then.
   */
  async function killedWhileSending(ns: string, cutAt: (names: FarmNames) => RegExp, outputBytes: number): Promise<void> {
    const tap = await startNatsTap(server.port);
    const farm = coordinator(server.url, ns);
    try {
      const victim = worker(tap.url, ns, 'victim');
      await victim.waitFor('slot(s) for');
      const cut = tap.cutAt([cutAt(farmNames(ns))], () => victim.process.kill('SIGKILL'));
      const [job] = await jobs(ns, 1, 300, () => outputBytes);
      const run = runJob(farm, job!, ns);
      await within(20_000, 'the cut', cut);
      assert.equal(await victim.exited, 'SIGKILL');
      assert.match(victim.log(), new RegExp(`building ${ns}-0/x86_64`));
      assert.doesNotMatch(victim.log(), /succeeded/);
      const rescuer = worker(server.url, ns, 'rescuer');
      const result = await within(20_000, 'the redelivered job', run);
      await assertArtifact(job!, result, ns);
      assert.equal(farm.jobRecords().length, 1);
      assert.equal(farm.jobRecords()[0]!.worker, workerId(rescuer));
      assert.match(rescuer.log(), new RegExp(`${ns}-0/x86_64 redelivered \\(delivery 2\\)`));
    } finally {
      await farm.close();
      await tap.close();
    }
  }

  test('a worker SIGKILLed while uploading its output to the store: the job is redelivered and reported once', async () => {
    // 200 KB goes through the store in two chunks; the first never reaches the server.
    await killedWhileSending('killupload_1', (names) => new RegExp(`H?PUB \\$O\\.${names.blobBucket}\\.C\\.`), 200_000);
  });

  test('a worker SIGKILLed as it publishes its result: the job is redelivered and reported once', async () => {
    // A small output travels inside the result message, which never reaches the server.
    await killedWhileSending('killresult_1', (names) => new RegExp(`H?PUB strata\\.${names.namespace}\\.results\\.`), 0);
  });

  test('a worker SIGKILLed after publishing its result but before its ack: reported once, the rebuild is ignored', async () => {
    const ns = 'killack_1';
    const nc = await observer(server.url);
    const results = countResults(nc, ns);
    const tap = await startNatsTap(server.port);
    const farm = coordinator(server.url, ns);
    try {
      const victim = worker(tap.url, ns, 'victim');
      await victim.waitFor('slot(s) for');
      const victimId = workerId(victim);
      const cut = tap.cutAt([new RegExp(`H?PUB strata\\.${ns}\\.results\\.`), /\+ACK/], () => victim.process.kill('SIGKILL'));
      const [job] = await jobs(ns, 1, 300);
      const result = await within(20_000, 'the job', runJob(farm, job!, ns));
      await within(5000, 'the cut', cut);
      assert.equal(await victim.exited, 'SIGKILL');
      await assertArtifact(job!, result, ns);
      assert.equal(farm.jobRecords()[0]!.worker, victimId);
      // The unacked job comes back after the ack wait (by design: a crash there costs a
      // rebuild): built again, stored, acked, and not reported again.
      const rescuer = worker(server.url, ns, 'rescuer');
      await until('the rebuild', 20_000, () => built(rescuer).length === 1);
      await until('the queue to drain', 10_000, async () => (await queued(nc, ns)) === 0, () => queueState(nc, ns));
      assert.equal(results.get(job!.bundle.key), 2);
      assert.equal(farm.jobRecords().length, 1);
      await assertArtifact(job!, result, ns);
    } finally {
      await farm.close();
      await tap.close();
      await nc.close();
    }
  });

  test('a job that ran out of deliveries while no coordinator ran is published again by the rerun, not waited on for ever', async () => {
    const ns = 'exhaust_1';
    const names = farmNames(ns);
    const nc = await observer(server.url);
    let exhausted = false;
    nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${names.jobStream}.*`, { callback: () => void (exhausted = true) });
    const policy = ['--ack-wait', '1', '--max-deliveries', '2'];
    const [job] = await jobs(ns, 1, 2500);
    const lines: string[] = [];
    const firstRun = coordinator(server.url, ns);
    const rerun = coordinator(server.url, ns, lines);
    try {
      // The first coordinator publishes the job, then goes away while a worker builds it.
      const doomed = worker(server.url, ns, 'doomed-1', ...policy);
      await doomed.waitFor('slot(s) for');
      const abandoned = runJob(firstRun, job!, `${ns}-first`);
      await doomed.waitFor('building exhaust_1-0/x86_64');
      await firstRun.close();
      await assert.rejects(abandoned, /lost the connection to the build farm/);
      // Every worker that takes it dies, until the queue gives up on it.
      doomed.process.kill('SIGKILL');
      const second = worker(server.url, ns, 'doomed-2', ...policy);
      await second.waitFor('exhaust_1-0/x86_64 redelivered (delivery 2)');
      second.process.kill('SIGKILL');
      const survivor = worker(server.url, ns, 'survivor', ...policy);
      await until('the max-deliveries advisory', 15_000, () => exhausted);
      assert.equal(await queued(nc, ns), 1, 'the given-up job stays in the queue');

      const result = await within(20_000, 'the rerun', runJob(rerun, job!, `${ns}-rerun`));
      await assertArtifact(job!, result, `${ns}-rerun`);
      assert.equal(rerun.jobRecords()[0]!.worker, workerId(survivor));
      assert.equal(rerun.jobRecords()[0]!.publishes, 1);
      assert.match(lines.join('\n'), /exhaust_1-0\/x86_64 .*will not be delivered again/);
      await until('the queue to drain', 10_000, async () => (await queued(nc, ns)) === 0);
    } finally {
      await firstRun.close();
      await rerun.close();
      await nc.close();
    }
  });
});
