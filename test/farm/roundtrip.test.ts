/**
 * Jobs through a real nats-server and real `strata worker` processes, with the
 * synthetic backend (so these tests are about the farm, not about rpmbuild):
 * results verified, failures reported once, wrong-arch workers left idle,
 * tampered blobs refused, workers killed mid-job.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Objm } from '@nats-io/obj';
import { jetstream } from '@nats-io/jetstream';
import { DigestCache } from '../../src/build/digest-cache.js';
import { bundleBlobs, bundleDigest, type JobResult } from '../../src/build/executor.js';
import { FarmCoordinator } from '../../src/farm/coordinator.js';
import { farmConnectionSettings } from '../../src/farm/connection.js';
import { openFarm } from '../../src/farm/farm.js';
import { INLINE_BLOB_BYTES } from '../../src/farm/inline.js';
import { encode, parseResultMessage, type JobMessage } from '../../src/farm/protocol.js';
import { farmNames, blobName, jobSubject, resultSubject, rootRoute } from '../../src/farm/subjects.js';
import { syntheticArtifact } from '../../src/farm/synthetic.js';
import { memoryLogger } from '../../src/util/log.js';
import { canonicalJson, sha256Hex } from '../../src/util/hash.js';
import { startNatsServer, startWorker, stopWorker, syntheticJob, SYNTHETIC_ROOT, type NatsServer, type SyntheticJob } from './harness.js';

let server: NatsServer;
let dir: string;
let digests: DigestCache;

before(async () => {
  server = await startNatsServer();
  dir = await mkdtemp(join(tmpdir(), 'strata-farm-test-'));
  digests = await DigestCache.open(join(dir, 'cache'));
});

after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

function coordinator(namespace: string, lines: string[] = [], inlineBundleBytes?: number): FarmCoordinator {
  return new FarmCoordinator({
    connection: farmConnectionSettings({ url: server.url }, {}),
    namespace,
    log: memoryLogger(lines),
    workerPollMs: 200,
    inlineBundleBytes,
  });
}

async function runJob(farm: FarmCoordinator, job: SyntheticJob, name: string): Promise<{ result: JobResult; outputDir: string; log: string }> {
  const outputDir = join(dir, 'out', name);
  const logFile = join(dir, 'logs', `${name}.log`);
  await rm(outputDir, { recursive: true, force: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  await writeFile(logFile, '');
  const result = await farm.run({ bundle: job.bundle, blobs: job.blobs, outputDir, logFile });
  return { result, outputDir, log: await readFile(logFile, 'utf8') };
}

function workerArgs(...extra: string[]): string[] {
  return ['--sandbox', 'synthetic', '--build-root', SYNTHETIC_ROOT, '--ack-wait', '2', ...extra];
}

describe('farm round trip', { timeout: 120_000 }, () => {
  test('a job goes to a worker and comes back verified, byte for byte', async () => {
    const ns = 'roundtrip_1';
    const worker = startWorker(server, ns, join(dir, 'w1'), workerArgs('--arch', 'x86_64'));
    const farm = coordinator(ns);
    try {
      await worker.waitFor('slot(s) for');
      const job = await syntheticJob(dir, 'alpha', { digests, sleepMs: 50 });
      const { result, outputDir, log } = await runJob(farm, job, 'alpha');
      assert.equal(result.status, 'succeeded', JSON.stringify(result));
      const expected = syntheticArtifact(job.bundle.key, bundleBlobs(job.bundle));
      assert.deepEqual(await readdir(outputDir), [expected.file]);
      assert.deepEqual(await readFile(join(outputDir, expected.file)), expected.data);
      assert.equal(result.artifacts[0]!.sha256, sha256Hex(expected.data));
      assert.match(log, /built on farm worker/);
      assert.match(log, /synthetic job alpha\/x86_64/);
    } finally {
      await farm.close();
      assert.equal(await stopWorker(worker), 0, worker.log());
    }
  });

  test('small inputs and outputs travel inside the messages: the store never holds them', async () => {
    const ns = 'byvalue_1';
    const worker = startWorker(server, ns, join(dir, 'w-byvalue'), workerArgs('--arch', 'x86_64'));
    const farm = coordinator(ns);
    try {
      await worker.waitFor('slot(s) for');
      const job = await syntheticJob(dir, 'small', { digests, sleepMs: 10 });
      const { result, outputDir } = await runJob(farm, job, 'small');
      assert.equal(result.status, 'succeeded');
      const expected = syntheticArtifact(job.bundle.key, bundleBlobs(job.bundle));
      assert.deepEqual(await readFile(join(outputDir, expected.file)), expected.data);
      const nc = await connect({ servers: server.url });
      const store = await new Objm(nc).open(farmNames(ns).blobBucket);
      const stored = (await store.list()).map((info) => info.name);
      await nc.close();
      assert.deepEqual(stored, [], 'nothing of a small job went through the object store');
    } finally {
      await farm.close();
      await stopWorker(worker);
    }
  });

  test('a blob sent by value whose bytes do not match its digest is refused, never built', async () => {
    const ns = 'byvalue_2';
    const job = await syntheticJob(dir, 'forged', { digests, sleepMs: 10 });
    const [source] = bundleBlobs(job.bundle);
    const names = farmNames(ns);
    const nc = await connect({ servers: server.url });
    await openFarm(nc, names);
    const results = nc.subscribe(resultSubject(names, job.bundle.key), { max: 1 });
    const worker = startWorker(server, ns, join(dir, 'w-forged'), workerArgs('--arch', 'x86_64'));
    try {
      await worker.waitFor('slot(s) for');
      // A job message as a coordinator writes it, with other bytes under the source's digest.
      const bundleJson = canonicalJson(job.bundle);
      const queue = { arch: job.bundle.arch, route: rootRoute(job.bundle.buildRoot) };
      const message: JobMessage = {
        format: 'strata-farm-job/1',
        job: job.bundle.job,
        key: job.bundle.key,
        ...queue,
        bundle: { sha256: bundleDigest(job.bundle), size: Buffer.byteLength(bundleJson), inline: bundleJson },
        blobs: [{ sha256: source!, data: Buffer.from('forged source\n').toString('base64') }],
        publishedAt: Date.now(),
      };
      await jetstream(nc).publish(jobSubject(names, queue, job.bundle.key), encode(message));
      let reply: ReturnType<typeof parseResultMessage> | undefined;
      for await (const msg of results) reply = parseResultMessage(msg.data);
      assert.equal(reply?.outcome, 'rejected', JSON.stringify(reply));
      assert.ok(reply?.outcome === 'rejected' && reply.badBlobs.includes(source!));
      assert.match(reply?.outcome === 'rejected' ? reply.reason : '', /does not match its digest.*job message/);
    } finally {
      await nc.close();
      await stopWorker(worker);
    }
    assert.doesNotMatch(worker.log(), /forged\/x86_64 succeeded/);
  });

  test('a result whose notice never reached the coordinator is taken from the result stream', async () => {
    const ns = 'missed_1';
    const worker = startWorker(server, ns, join(dir, 'w-missed'), workerArgs('--arch', 'x86_64'));
    const lines: string[] = [];
    const farm = coordinator(ns, lines);
    try {
      await worker.waitFor('slot(s) for');
      await farm.probe();
      // What a notice lost in a reconnect looks like from here: the result subscription hears nothing.
      const session = await (farm as unknown as { session: Promise<{ subscriptions: Array<{ unsubscribe(): void }> }> }).session;
      session.subscriptions[0]!.unsubscribe();
      const job = await syntheticJob(dir, 'unheard', { digests, sleepMs: 10 });
      const { result, outputDir } = await runJob(farm, job, 'unheard');
      assert.equal(result.status, 'succeeded', lines.join('\n'));
      const expected = syntheticArtifact(job.bundle.key, bundleBlobs(job.bundle));
      assert.deepEqual(await readFile(join(outputDir, expected.file)), expected.data);
      assert.equal(farm.jobRecords()[0]!.publishes, 1, 'taken from the stream, not built again');
    } finally {
      await farm.close();
      await stopWorker(worker);
    }
  });

  test('a server without JetStream is named at once, with what to do', async (t) => {
    const plain = await startNatsServer('max_payload: 1048576\n');
    t.after(() => plain.stop());
    const worker = startWorker(plain, 'plain_1', join(dir, 'w-plain'), workerArgs('--arch', 'x86_64'));
    const started = Date.now();
    assert.equal(await worker.exited, 1, worker.log());
    assert.ok(Date.now() - started < 15_000, 'not retried as if a cluster were electing a leader');
    assert.match(worker.log(), /does not run JetStream/);
    assert.match(worker.log(), /hint: .*start it with -js/);
    assert.doesNotMatch(worker.log(), /internal error/);
  });

  test('a failing build is reported once, not retried (its bundle sent through the store)', async () => {
    const ns = 'failing_1';
    const worker = startWorker(server, ns, join(dir, 'w2'), workerArgs('--arch', 'x86_64'));
    const farm = coordinator(ns, [], 0);
    try {
      await worker.waitFor('slot(s) for');
      const job = await syntheticJob(dir, 'broken', { digests, fail: true });
      const { result, log } = await runJob(farm, job, 'broken');
      assert.equal(result.status, 'failed');
      assert.equal(result.reason, 'synthetic failure requested');
      assert.match(log, /asked this synthetic job to fail/);
    } finally {
      await farm.close();
      await stopWorker(worker);
    }
    assert.equal(worker.log().match(/broken\/x86_64 failed/g)?.length, 1, worker.log());
  });

  test('a worker for another arch is never given a job', async () => {
    const ns = 'arches_1';
    const arm = startWorker(server, ns, join(dir, 'w-arm'), workerArgs('--arch', 'aarch64'));
    const x86 = startWorker(server, ns, join(dir, 'w-x86'), workerArgs('--arch', 'x86_64'));
    const farm = coordinator(ns);
    try {
      await arm.waitFor('slot(s) for');
      await x86.waitFor('slot(s) for');
      const jobs = await Promise.all(['a', 'b', 'c', 'd'].map((n) => syntheticJob(dir, `arch-${n}`, { digests, sleepMs: 20 })));
      const results = await Promise.all(jobs.map((job, i) => runJob(farm, job, `arch-${i}`)));
      assert.ok(results.every((r) => r.result.status === 'succeeded'));
      const records = farm.jobRecords();
      assert.equal(records.length, 4);
      assert.ok(records.every((r) => r.worker !== null && x86.log().includes(r.worker)), 'every job ran on the x86_64 worker');
    } finally {
      await farm.close();
      await stopWorker(arm);
      await stopWorker(x86);
    }
    assert.doesNotMatch(arm.log(), /arch-.\/x86_64/);
  });

  test('a tampered blob in the store is detected, never used, and replaced', async () => {
    const ns = 'tamper_1';
    const shared = join(dir, 'shared-input');
    // Larger than what travels by value, so the worker must take it from the store.
    await writeFile(shared, `the real shared input\n${'.'.repeat(INLINE_BLOB_BYTES)}`);
    const job = await syntheticJob(dir, 'victim', { digests, shared: [shared], sleepMs: 10 });
    const sharedSha = sha256Hex(await readFile(shared));
    // Someone with write access puts other bytes under the blob's name.
    const nc = await connect({ servers: server.url });
    const names = farmNames(ns);
    await openFarm(nc, names);
    const store = await new Objm(nc).open(names.blobBucket);
    // Same size, so only hashing the bytes can tell.
    await store.putBlob({ name: blobName(sharedSha) }, new TextEncoder().encode(`the evil shared input\n${'.'.repeat(INLINE_BLOB_BYTES)}`));
    await nc.close();

    const worker = startWorker(server, ns, join(dir, 'w-tamper'), workerArgs('--arch', 'x86_64'));
    const lines: string[] = [];
    const farm = coordinator(ns, lines);
    try {
      await worker.waitFor('slot(s) for');
      const { result, outputDir } = await runJob(farm, job, 'victim');
      assert.equal(result.status, 'succeeded');
      const expected = syntheticArtifact(job.bundle.key, bundleBlobs(job.bundle));
      // The artifact's bytes depend on the inputs' bytes: it was built from the real ones.
      assert.deepEqual(await readFile(join(outputDir, expected.file)), expected.data);
      assert.match(lines.join('\n'), /refused victim\/x86_64: .*does not match its digest/);
      assert.equal(farm.jobRecords()[0]!.publishes, 2);
    } finally {
      await farm.close();
      await stopWorker(worker);
    }
    assert.match(worker.log(), /refused victim\/x86_64/);
  });

  test('a tampered output is not filed', async () => {
    const ns = 'tamper_2';
    // Too large to travel inside the result: the output goes through the store.
    const job = await syntheticJob(dir, 'outcheck', { digests, sleepMs: 10, outputBytes: 2 * INLINE_BLOB_BYTES });
    const expected = syntheticArtifact(job.bundle.key, bundleBlobs(job.bundle), 2 * INLINE_BLOB_BYTES);
    const worker = startWorker(server, ns, join(dir, 'w-out'), workerArgs('--arch', 'x86_64'));
    const farm = coordinator(ns);
    try {
      await worker.waitFor('slot(s) for');
      assert.equal((await runJob(farm, job, 'outcheck-1')).result.status, 'succeeded');
    } finally {
      await farm.close();
    }
    // Replace the stored output, then let a new coordinator reuse the stored result.
    const nc = await connect({ servers: server.url });
    const store = await new Objm(nc).open(farmNames(ns).blobBucket);
    await store.putBlob({ name: blobName(sha256Hex(expected.data)) }, new TextEncoder().encode('forged rpm'));
    await nc.close();
    const lines: string[] = [];
    const again = coordinator(ns, lines);
    try {
      const { result, outputDir } = await runJob(again, job, 'outcheck-2');
      assert.equal(result.status, 'succeeded');
      assert.deepEqual(await readFile(join(outputDir, expected.file)), expected.data);
      assert.match(lines.join('\n'), /output from worker .* rejected: .*does not match its digest/);
    } finally {
      await again.close();
      await stopWorker(worker);
    }
  });
});
