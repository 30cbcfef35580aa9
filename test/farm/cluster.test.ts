/**
 * The farm on a real three-node JetStream cluster: streams, object store and
 * heartbeat bucket with three replicas (set the way `[build.farm] replicas`
 * sets them), a coordinator given all three server URLs, two workers on two
 * different nodes. The node the coordinator is connected to, moved to lead the
 * job queue, the results and the blob store, is SIGKILLed while jobs are
 * queued and running; more jobs, with inputs the store has not seen, are
 * submitted right after, and every output goes through the store. The build
 * must finish anyway: one report per job, every output the exact bytes the
 * synthetic backend makes, one stored result per job and an empty queue.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { DigestCache } from '../../src/build/digest-cache.js';
import { bundleBlobs, type JobResult } from '../../src/build/executor.js';
import { createExecutor } from '../../src/build/executors/index.js';
import type { DistroModel } from '../../src/config/model.js';
import type { FarmCoordinator } from '../../src/farm/coordinator.js';
import { FARM_EXECUTOR, registerFarmExecutor } from '../../src/farm/register.js';
import { blobName, farmNames, farmNamespace } from '../../src/farm/subjects.js';
import { syntheticArtifact } from '../../src/farm/synthetic.js';
import { retryTransient } from '../../src/farm/transient.js';
import { memoryLogger } from '../../src/util/log.js';
import { sha256Hex } from '../../src/util/hash.js';
import { startWorker, stopWorker, syntheticJob, SYNTHETIC_ROOT, type SyntheticJob, type WorkerProcess } from './harness.js';
import { startNatsCluster, type ClusterNode, type NatsCluster } from './cluster-harness.js';

const JOBS = 16;
const SLEEP_MS = 1200;
/** Jobs submitted only after the kill: their inputs are uploaded while the cluster elects new leaders. */
const LATE = 4;
/** Outputs too big to travel inside the result message: they go through the object store too. */
const OUTPUT_BYTES = 48 * 1024;

let cluster: NatsCluster;
let dir: string;
let digests: DigestCache;

before(async () => {
  cluster = await startNatsCluster(3);
  dir = await mkdtemp(join(tmpdir(), 'strata-farm-cluster-'));
  digests = await DigestCache.open(join(dir, 'cache'));
});

after(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Moves a stream's leader to `node` by asking the current leader to step down, a few times at most. */
async function leadOn(jsm: JetStreamManager, nc: NatsConnection, stream: string, node: ClusterNode): Promise<string | undefined> {
  let leader: string | undefined;
  for (let attempt = 0; attempt < 8; attempt++) {
    leader = (await jsm.streams.info(stream)).cluster?.leader;
    if (leader === node.name) return leader;
    if (leader !== undefined) {
      await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { timeout: 5000 }).catch(() => null);
    }
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      const now = (await jsm.streams.info(stream).catch(() => null))?.cluster?.leader;
      if (now !== undefined && now !== leader) break;
    }
  }
  return (await jsm.streams.info(stream)).cluster?.leader;
}

describe('farm on a three-node JetStream cluster', { timeout: 85_000 }, () => {
  test('the coordinator\'s node is SIGKILLed mid-build: every job reported once, every output byte-exact', async (t) => {
    const started = Date.now();
    const model = { distro: { name: 'cluster', version: '1' } } as Pick<DistroModel, 'distro'>;
    const ns = farmNamespace(model.distro.name, model.distro.version);
    const names = farmNames(ns);
    // What `[build.farm] url = "nats://a,nats://b,nats://c"` and `replicas = 3` give `strata build`.
    registerFarmExecutor(model, { url: cluster.urls, replicas: 3 });
    const lines: string[] = [];
    const coordinator = createExecutor(FARM_EXECUTOR, { cacheDir: join(dir, 'cache'), log: memoryLogger(lines) }) as FarmCoordinator;
    // The test's own view of the cluster, through all three servers.
    const nc = await connect({ servers: cluster.urls.split(',') });
    const workers: WorkerProcess[] = [];
    try {
      // Connects, and (first on this namespace) creates the farm with three replicas.
      await coordinator.probe();
      const home = await cluster.nodeOf('strata coordinator');
      assert.ok(home, 'the coordinator is connected to one of the nodes');
      const other = cluster.nodes.find((n) => n !== home)!;

      const jsm = await jetstreamManager(nc);
      // Opened now: opening asks the JetStream meta leader, which may be on the node that dies.
      const blobStore = await new Objm(nc).open(names.blobBucket);
      const streams = [names.jobStream, names.resultStream, `OBJ_${names.blobBucket}`, `KV_${names.workerBucket}`];
      for (const stream of streams) {
        const info = await jsm.streams.info(stream);
        assert.equal(info.config.num_replicas, 3, `${stream} has three replicas`);
        assert.equal((info.cluster?.replicas ?? []).length, 2, `${stream} is on all three nodes`);
      }
      // The harder case: the node that goes away also leads the queue, the results and the blob store.
      for (const stream of streams.slice(0, 3)) await leadOn(jsm, nc, stream, home);
      const leadersBefore = Object.fromEntries(await Promise.all(streams.map(async (s) => [s, (await jsm.streams.info(s)).cluster?.leader] as const)));
      t.diagnostic(`coordinator on ${home.name}; stream leaders before the kill: ${JSON.stringify(leadersBefore)}`);

      const workerArgs = ['--sandbox', 'synthetic', '--build-root', SYNTHETIC_ROOT, '--arch', 'x86_64', '-j', '2', '--ack-wait', '3', '--replicas', '3'];
      // One worker on the node that will die (it must find the others by itself), one elsewhere.
      workers.push(startWorker({ url: home.url }, ns, join(dir, 'w-home'), workerArgs));
      workers.push(startWorker({ url: other.url }, ns, join(dir, 'w-other'), workerArgs));
      await Promise.all(workers.map((w) => w.waitFor('slot(s) for')));

      const jobs: SyntheticJob[] = [];
      const bigInputs: string[] = [];
      for (let i = 0; i < JOBS; i++) {
        const name = `job${String(i).padStart(2, '0')}`;
        // The late jobs' extra input is too big to travel inside the job message: it goes through the object store.
        const big = join(dir, `${name}.big`);
        if (i >= JOBS - LATE) {
          await writeFile(big, `${name}\n`.repeat(8 * 1024));
          bigInputs.push(sha256Hex(await readFile(big)));
        }
        jobs.push(await syntheticJob(dir, name, { digests, sleepMs: SLEEP_MS, outputBytes: OUTPUT_BYTES, shared: i >= JOBS - LATE ? [big] : [] }));
      }
      const builtBy = (w: WorkerProcess): number => w.log().match(/ succeeded in /g)?.length ?? 0;
      const built = (): number => workers.reduce((sum, w) => sum + builtBy(w), 0);
      const submit = async (job: SyntheticJob) => {
        const outputDir = join(dir, 'out', job.bundle.component);
        const logFile = join(dir, 'logs', `${job.bundle.component}.log`);
        await mkdir(join(dir, 'logs'), { recursive: true });
        await writeFile(logFile, '');
        const result: JobResult = await coordinator.run({ bundle: job.bundle, blobs: job.blobs, outputDir, logFile });
        return { job, result, outputDir };
      };
      // Most jobs are submitted now; the rest (inputs the store has not seen yet) right after the kill.
      const running = jobs.slice(0, JOBS - LATE).map(submit);

      // Mid-build: some jobs done, others running or queued.
      const deadline = Date.now() + 30_000;
      while (built() < 3) {
        assert.ok(Date.now() < deadline, `no jobs were built: ${workers.map((w) => w.log()).join('\n')}`);
        await sleep(50);
      }
      const builtBeforeKill = built();
      const homeBuiltBeforeKill = builtBy(workers[0]!);
      const killedAt = Date.now();
      await home.kill();
      running.push(...jobs.slice(JOBS - LATE).map(submit));
      t.diagnostic(`SIGKILLed ${home.name} after ${builtBeforeKill} builds, ${killedAt - started} ms into the test`);

      const outcomes = await Promise.all(running);
      t.diagnostic(`all ${JOBS} jobs reported ${Date.now() - killedAt} ms after the kill`);

      for (const { job, result, outputDir } of outcomes) {
        assert.equal(result.status, 'succeeded', `${job.bundle.job}: ${JSON.stringify(result)}\n${lines.join('\n')}`);
        const expected = syntheticArtifact(job.bundle.key, bundleBlobs(job.bundle), OUTPUT_BYTES);
        assert.equal(expected.data.length, OUTPUT_BYTES);
        assert.deepEqual(await readdir(outputDir), [expected.file], job.bundle.job);
        assert.deepEqual(await readFile(join(outputDir, expected.file)), expected.data, job.bundle.job);
      }
      // The late jobs' big inputs did go through the object store (uploaded while it was electing a leader).
      for (const sha of bigInputs) assert.ok(await retryTransient(() => blobStore.info(blobName(sha))), `input ${sha} is in the object store`);
      // The worker whose node died went on building through another node.
      assert.ok(builtBy(workers[0]!) > homeBuiltBeforeKill, `the worker on ${home.name} built nothing after the kill:\n${workers[0]!.log()}`);
      // Exactly one report per job: one record each, for the jobs sent, no more.
      const records = coordinator.jobRecords();
      assert.equal(records.length, JOBS);
      assert.deepEqual(new Set(records.map((r) => r.key)), new Set(jobs.map((j) => j.bundle.key)));
      const text = lines.join('\n');
      assert.match(text, /lost the connection to the NATS server/);
      assert.match(text, /reconnected to the NATS server/);
      // The farm is still whole on the two nodes left: one stored result per job, and the queue empties.
      // (A result can reach the coordinator's subscription while the stream is between leaders and not
      // store it; the worker's publish is retried until it is stored, and only then is the job acked.)
      let stored = 0;
      let queued = -1;
      for (const until = Date.now() + 20_000; Date.now() < until; await sleep(250)) {
        stored = Object.keys((await retryTransient(() => jsm.streams.info(names.resultStream, { subjects_filter: names.allResults }))).state.subjects ?? {}).length;
        queued = (await retryTransient(() => jsm.streams.info(names.jobStream))).state.messages;
        if (stored === JOBS && queued === 0) break;
      }
      assert.equal(stored, JOBS, 'one stored result per job');
      assert.equal(queued, 0, 'nothing left in the queue');
      t.diagnostic(`results stored and queue empty ${Date.now() - killedAt} ms after the kill`);
      const leadersAfter = Object.fromEntries(await Promise.all(streams.map(async (s) => [s, (await retryTransient(() => jsm.streams.info(s))).cluster?.leader] as const)));
      for (const [stream, leader] of Object.entries(leadersAfter)) assert.notEqual(leader, home.name, `${stream} has a new leader`);
      const count = (re: RegExp): number => workers.reduce((sum, w) => sum + (w.log().match(re)?.length ?? 0), 0);
      t.diagnostic(`${count(/ redelivered /g)} redeliveries, ${count(/could not run/g)} jobs handed back; leaders after: ${JSON.stringify(leadersAfter)}`);
    } finally {
      await coordinator.close();
      for (const worker of workers) {
        const code = await stopWorker(worker, 10_000);
        if (code !== 0) t.diagnostic(`worker exited ${code}:\n${worker.log()}`);
      }
      await nc.close();
    }
    // The worker that lost its node kept working through another one and stopped cleanly.
    for (const worker of workers) assert.equal(await worker.exited, 0, worker.log());
    t.diagnostic(`test body took ${Date.now() - started} ms`);
  });
});
