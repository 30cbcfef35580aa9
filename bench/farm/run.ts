/**
 * The farm's own cost: synthetic jobs (the `synthetic` backend only sleeps)
 * through a real nats-server and 1, 4 and 16 `strata worker` processes on this
 * machine, dispatched by the `nats` executor under strata's own scheduler.
 *
 * Figures per pool size: makespan against the ideal (total sleep / slots), and
 * the dispatch overhead per job: slot time not spent sleeping, divided by the
 * jobs (makespan × slots − work) / jobs. Targets: within 10 % of the ideal at
 * 16 workers; under 20 ms of overhead per job.
 *
 *   node dist/bench/farm/run.js [--jobs 2000] [--workers 1,4,16] [--sleep-ms 100] [--slots 1] [--out FILE]
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { DigestCache } from '../../src/build/digest-cache.js';
import { runSchedule } from '../../src/build/scheduler.js';
import { FarmCoordinator, type FarmJobRecord } from '../../src/farm/coordinator.js';
import { farmConnectionSettings } from '../../src/farm/connection.js';
import { liveWorkers, openFarm } from '../../src/farm/farm.js';
import { farmWindow } from '../../src/farm/gate.js';
import { farmNames } from '../../src/farm/subjects.js';
import { memoryLogger } from '../../src/util/log.js';
import { sha256Hex } from '../../src/util/hash.js';
import { startNatsServer, startWorker, stopWorker, syntheticJob, SYNTHETIC_ROOT, type SyntheticJob } from '../../test/farm/harness.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '1,4,16' },
    'sleep-ms': { type: 'string', default: '100' },
    slots: { type: 'string', default: '1' },
    out: { type: 'string', default: fileURLToPath(new URL('../../../bench/results/farm.json', import.meta.url)) },
  },
});
const JOBS = Number(values.jobs);
const POOLS = values.workers!.split(',').map(Number);
const MEAN_MS = Number(values['sleep-ms']);
const SLOTS = Number(values.slots);
const NAMESPACE = 'bench_1';

/** Deterministic sleeps, uniform in [mean/2, 3·mean/2], so every pool size gets the same work. */
function sleepOf(index: number): number {
  const u = parseInt(sha256Hex(`job ${index}`).slice(0, 8), 16) / 0xffffffff;
  return Math.round(MEAN_MS / 2 + u * MEAN_MS);
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

interface Phases {
  pullMs: number;
  fetchMs: number;
  buildExtraMs: number;
  uploadMs: number;
  queueMs: number;
  resultMs: number;
}

interface PoolResult {
  workers: number;
  slots: number;
  jobs: number;
  workSeconds: number;
  idealSeconds: number;
  makespanSeconds: number;
  /** makespan / ideal − 1. */
  overIdeal: number;
  overheadMsPerJob: number;
  /** CPU time per job over nats-server, the workers and the coordinator together (all on this machine). */
  cpuMsPerJob: number;
  /** The same, per party: the coordinator includes strata's scheduler and the synthetic bundles' bookkeeping. */
  cpuSplitMsPerJob: { coordinator: number; workers: number; server: number };
  cpus: number;
  /**
   * Medians over jobs, milliseconds. pull: a slot's wait between one build
   * ending and the next job arriving; fetch: bundle and inputs; buildExtra:
   * the executor's time beyond the sleep; upload: outputs and result (the slot
   * is already free); queue: from publishing to a worker starting it (mostly
   * waiting for a slot); result: from the worker finishing to the coordinator
   * holding verified outputs.
   */
  median: Phases;
  p95: Phases;
}

async function runPool(workers: number, dir: string): Promise<PoolResult> {
  const server = await startNatsServer();
  const pool = Array.from({ length: workers }, (_, i) =>
    startWorker(server, NAMESPACE, join(dir, `w${workers}-${i}`), ['--sandbox', 'synthetic', '--build-root', SYNTHETIC_ROOT, '--arch', 'x86_64', '-j', String(SLOTS), '--quiet']),
  );
  try {
    // Every worker registered (heartbeat) before the clock starts.
    const nc = await connect({ servers: server.url });
    const farm = await openFarm(nc, farmNames(NAMESPACE));
    for (let i = 0; (await liveWorkers(farm)).length < workers; i++) {
      if (i > 1200) throw new Error(`only ${(await liveWorkers(farm)).length} of ${workers} workers registered`);
      await sleep(100);
    }
    await nc.close();

    const digests = await DigestCache.open(join(dir, 'cache'));
    const jobs: SyntheticJob[] = [];
    for (let i = 0; i < JOBS; i++) jobs.push(await syntheticJob(join(dir, `jobs${workers}`), `job${i}`, { digests, sleepMs: sleepOf(i) }));
    const coordinator = new FarmCoordinator({
      connection: farmConnectionSettings({ url: server.url }, {}),
      namespace: NAMESPACE,
      log: memoryLogger(),
    });
    const slots = workers * SLOTS;
    const logs = join(dir, `logs${workers}`);
    await mkdir(logs, { recursive: true });
    const byId = new Map(jobs.map((job) => [job.bundle.job, job]));
    const sum = async (pids: number[]): Promise<number> => (await Promise.all(pids.map(cpuSeconds))).reduce((a, b) => a + b, 0);
    const workerPids = pool.map((w) => w.process.pid!);
    const serverBefore = await cpuSeconds(server.process.pid!);
    const workersBefore = await sum(workerPids);
    const ownBefore = process.cpuUsage();
    const started = performance.now();
    const statuses = await runSchedule(
      jobs.map((job) => ({ id: job.bundle.job, deps: [], weight: 1 })),
      async (id) => {
        const job = byId.get(id)!;
        const logFile = join(logs, `${job.bundle.component}.log`);
        await writeFile(logFile, '');
        const result = await coordinator.run({ bundle: job.bundle, blobs: job.blobs, outputDir: join(dir, `out${workers}`, job.bundle.component), logFile });
        return result.status;
      },
      { concurrency: farmWindow(slots), keepGoing: true },
    );
    const makespanSeconds = (performance.now() - started) / 1000;
    const own = process.cpuUsage(ownBefore);
    const perJob = (seconds: number): number => round((seconds / JOBS) * 1000);
    const cpu = {
      coordinator: perJob((own.user + own.system) / 1e6),
      workers: perJob((await sum(workerPids)) - workersBefore),
      server: perJob((await cpuSeconds(server.process.pid!)) - serverBefore),
    };
    await coordinator.close();
    const failed = [...statuses.values()].filter((s) => s.state !== 'succeeded').length;
    if (failed > 0) throw new Error(`${failed} synthetic jobs did not succeed`);

    const records: readonly FarmJobRecord[] = coordinator.jobRecords();
    const workSeconds = jobs.reduce((sum, job) => sum + Number(job.bundle.env.STRATA_SYNTHETIC_MS) / 1000, 0);
    const idealSeconds = workSeconds / slots;
    // Per worker, the time between one build ending and its next job starting (pulling it).
    const sleepOfJob = new Map(jobs.map((job) => [job.bundle.job, Number(job.bundle.env.STRATA_SYNTHETIC_MS)]));
    const byWorker = new Map<string, FarmJobRecord[]>();
    for (const r of records) byWorker.set(r.worker!, [...(byWorker.get(r.worker!) ?? []), r]);
    const pullMs: number[] = [];
    for (const list of byWorker.values()) {
      list.sort((a, b) => a.startedAt! - b.startedAt!);
      for (let i = 1; i < list.length; i++) pullMs.push(Math.max(0, list[i]!.startedAt! - (list[i - 1]!.startedAt! + list[i - 1]!.fetchMs + list[i - 1]!.buildMs)));
    }
    const phases = {
      pullMs,
      buildExtraMs: records.map((r) => r.buildMs - sleepOfJob.get(r.job)!),
      queueMs: records.map((r) => r.startedAt! - r.publishedAt!),
      fetchMs: records.map((r) => r.fetchMs),
      uploadMs: records.map((r) => r.uploadMs),
      resultMs: records.map((r) => r.receivedAt - r.finishedAt!),
    };
    const pick = (p: number): PoolResult['median'] => ({
      pullMs: percentile(phases.pullMs, p),
      buildExtraMs: percentile(phases.buildExtraMs, p),
      queueMs: percentile(phases.queueMs, p),
      fetchMs: percentile(phases.fetchMs, p),
      uploadMs: percentile(phases.uploadMs, p),
      resultMs: percentile(phases.resultMs, p),
    });
    return {
      workers,
      slots,
      jobs: JOBS,
      workSeconds: round(workSeconds),
      idealSeconds: round(idealSeconds),
      makespanSeconds: round(makespanSeconds),
      overIdeal: round(makespanSeconds / idealSeconds - 1, 4),
      overheadMsPerJob: round(((makespanSeconds * slots - workSeconds) / JOBS) * 1000),
      cpuMsPerJob: round(cpu.coordinator + cpu.workers + cpu.server),
      cpuSplitMsPerJob: cpu,
      cpus: cpus().length,
      median: pick(50),
      p95: pick(95),
    };
  } finally {
    await Promise.all(pool.map((w) => stopWorker(w)));
    await server.stop();
  }
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-farm-'));
  const results: PoolResult[] = [];
  try {
    for (const workers of POOLS) {
      const result = await runPool(workers, dir);
      results.push(result);
      process.stdout.write(
        `${String(workers).padStart(3)} worker(s) × ${SLOTS} slot: ${JOBS} jobs, work ${result.workSeconds} s, ideal ${result.idealSeconds} s, ` +
          `makespan ${result.makespanSeconds} s (${(result.overIdeal * 100).toFixed(1)} % over), overhead ${result.overheadMsPerJob} ms/job, CPU ${result.cpuMsPerJob} ms/job (coordinator ${result.cpuSplitMsPerJob.coordinator}, workers ${result.cpuSplitMsPerJob.workers}, server ${result.cpuSplitMsPerJob.server}); ` +
          `median (p95) ms: ${Object.entries(result.median).map(([k, v]) => `${k.replace(/Ms$/, '')} ${v} (${result.p95[k as keyof Phases]})`).join(', ')}\n`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const out = resolve(values.out!);
  await mkdir(resolve(out, '..'), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify({ benchmark: 'farm', date: new Date().toISOString(), host: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown' }, meanSleepMs: MEAN_MS, slotsPerWorker: SLOTS, results }, null, 2)}\n`,
  );
  process.stdout.write(`wrote ${out}\n`);
}

await main();
