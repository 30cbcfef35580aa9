/**
 * The example distro built locally and through a one-worker farm, side by
 * side: what the farm costs on real rpmbuild jobs, as opposed to bench/farm/
 * run.ts, which measures it with synthetic jobs that only sleep.
 *
 * Each round copies the project (toolkit.config.toml, specs/, overlays/) into
 * two fresh folders and runs, in alternating order:
 *
 * - local: `strata build greet tinyinit filesystem glibc-runtime --arch x86_64
 *   -j SLOTS` (bubblewrap, empty cache and output);
 * - farm: a fresh nats-server, one `strata worker -j SLOTS` in an empty work
 *   folder of its own, and the same `strata build` with `--executor nats`
 *   (no -j: the farm's default window, the live slots plus one queued each).
 *
 * The components are those of test/farm/distro.test.ts (busybox left out: it
 * alone takes ten minutes here); libgreet comes in as greet's dependency, so 5
 * jobs. Both builds are the real CLI in a process of its own, timed from spawn
 * to exit; starting the server and the worker is timed separately (a farm
 * runs before a build and after it). The RPMs of every build must be
 * byte-identical to the first local build's, and the cache keys equal, or the
 * benchmark fails.
 *
 * Figures: wall time (median, min, max) of each side, the ratio farm/local and
 * the overhead (farm − local) in seconds and per job; the same overhead with
 * each build's sandbox time taken out (rpmbuild's time swings with the
 * machine's load, the farm's own cost is what lies outside it); and where the
 * time goes on each side, from the progress and -v lines (stamped as they
 * arrive) and the timing each worker result carries in the result stream. The
 * time lines add up to the wall time with one slot (the default).
 *
 *   node dist/bench/farm/distro.js [--rounds 3] [--slots 1] [--out FILE]
 *
 * --slots is both the local build's -j and the worker's -j. Writes
 * bench/results/farm-distro.json, with the load average (the machine may be shared).
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { liveWorkers, openFarm } from '../../src/farm/farm.js';
import { parseResultMessage, type BuiltResult } from '../../src/farm/protocol.js';
import { farmNames, farmNamespace } from '../../src/farm/subjects.js';
import { loadModel } from '../../src/cli/project.js';
import { sha256Hex } from '../../src/util/hash.js';
import { CLI, startNatsServer, startWorker, stopWorker } from '../../test/farm/harness.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    slots: { type: 'string', default: '1' },
    out: { type: 'string', default: fileURLToPath(new URL('../../../bench/results/farm-distro.json', import.meta.url)) },
  },
});
const ROUNDS = Number(values.rounds);
const SLOTS = Number(values.slots);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds must be a positive whole number, not ${values.rounds}`);
if (!Number.isInteger(SLOTS) || SLOTS < 1) throw new Error(`--slots must be a positive whole number, not ${values.slots}`);
const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const COMPONENTS = ['greet', 'tinyinit', 'filesystem', 'glibc-runtime'];
const ARCH = 'x86_64';

interface JobSummary {
  job: string;
  status: string;
  seconds: number;
  key?: string;
}
interface Summary {
  ok: boolean;
  executor: string;
  jobs: JobSummary[];
  repos: Record<string, string>;
  counts: { built: number; cached: number; failed: number; total: number };
  seconds: number;
}

interface CliRun {
  wallSeconds: number;
  summary: Summary;
  spawnedAt: number;
  exitedAt: number;
  /** stderr lines with the time (Date.now()) each arrived. */
  lines: Array<{ at: number; text: string }>;
}

/** The CLI in a process of its own, timed from spawn to exit; stdout is its --json summary. */
async function runCli(args: string[]): Promise<CliRun> {
  const lines: CliRun['lines'] = [];
  let stdout = '';
  let partial = '';
  const spawnedAt = Date.now();
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    const at = Date.now();
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    for (const text of parts) lines.push({ at, text });
  });
  const code = await new Promise<number | null>((r) => child.once('close', r));
  const wallSeconds = (performance.now() - started) / 1000;
  const exitedAt = Date.now();
  if (partial !== '') lines.push({ at: exitedAt, text: partial });
  if (code !== 0) throw new Error(`strata ${args.join(' ')} exited with ${code}:\n${lines.map((l) => l.text).join('\n')}\n${stdout}`);
  return { wallSeconds, summary: JSON.parse(stdout) as Summary, spawnedAt, exitedAt, lines };
}

async function copyProject(dir: string): Promise<string> {
  for (const entry of ['toolkit.config.toml', 'specs', 'overlays']) await cp(join(REPO, entry), join(dir, entry), { recursive: true });
  return dir;
}

/** RPM file name → SHA-256 of its bytes, from the repository the build wrote. */
async function repoDigests(summary: Summary): Promise<Map<string, string>> {
  const dir = summary.repos[ARCH]!;
  const rpms = (await readdir(dir)).filter((f) => f.endsWith('.rpm')).sort();
  return new Map(await Promise.all(rpms.map(async (f) => [f, sha256Hex(await readFile(join(dir, f)))] as [string, string])));
}

function sameDigests(a: Map<string, string>, b: Map<string, string>): string | null {
  const names = new Set([...a.keys(), ...b.keys()]);
  const differ = [...names].filter((n) => a.get(n) !== b.get(n));
  return differ.length === 0 ? null : differ.map((n) => `${n}: ${a.get(n) ?? 'missing'} vs ${b.get(n) ?? 'missing'}`).join('; ');
}

function buildArgs(dir: string): string[] {
  return ['-C', dir, 'build', ...COMPONENTS, '--arch', ARCH, '--json', '-v'];
}

function checkBuilt(run: CliRun, what: string): void {
  const { counts } = run.summary;
  if (!run.summary.ok || counts.built !== counts.total || counts.total === 0) {
    throw new Error(`${what}: expected every job built from scratch, got ${JSON.stringify(counts)}`);
  }
}

interface Round {
  wallSeconds: number;
  /** buildDistro's own time (no process start, no project loading). */
  buildSeconds: number;
  /** Sum over jobs of the sandbox's time (rpmbuild in bubblewrap), and each job's, in the order they finished. */
  jobSeconds: number;
  perJobSeconds: Record<string, number>;
  /** Wall time not spent in a sandbox: wall − jobSeconds. */
  outsideSandboxSeconds: number;
  loadAverage1m: number;
}

interface LocalRound extends Round {
  /**
   * head: spawn to the first sandbox starting (process start, project, spec
   * evaluation, build root, the bubblewrap probe, the first bundle; measured
   * as the first job's progress line minus its sandbox time, so the filing of
   * the first job's outputs is counted here too); sandbox: the jobs' sandbox time;
   * between: the gaps between one job ending and the next starting (filing
   * outputs into the cache and repository, the next bundle); tail: the last
   * job filed to exit (repository metadata, summary, exit). With one slot
   * these add up to the wall time.
   */
  timeline: { headSeconds: number; sandboxSeconds: number; betweenSeconds: number; tailSeconds: number };
}

interface FarmRound extends Round {
  serverStartSeconds: number;
  /** From spawning `strata worker` to its heartbeat being visible (it computes the host build root's identity first). */
  workerReadySeconds: number;
  /**
   * Cut at the worker's timestamps; with one slot its jobs run one after the
   * other and these add up to the wall time. head: spawn to the worker taking
   * the first job (as local, plus connecting, uploading that job's inputs,
   * publishing, the worker pulling it); fetch: the worker fetching and
   * re-hashing inputs; sandbox: the worker's executor; idle: the worker waiting
   * between jobs (a result's round trip through the coordinator when the next
   * job depends on it, else publish-to-pull latency); tail: the last sandbox's
   * end to the coordinator's exit (upload, result, fetching and verifying the
   * RPMs, filing them, repository metadata, exit). upload overlaps idle and tail.
   */
  timeline: { headSeconds: number; fetchSeconds: number; sandboxSeconds: number; idleSeconds: number; tailSeconds: number; uploadSeconds: number };
  /** Spawn to the coordinator's "connected" line, and to its first "published" line. */
  connectedSeconds: number | null;
  firstPublishedSeconds: number | null;
  /** The first job published to the worker starting it (a job queued behind a busy slot would measure the slot, not the farm). */
  firstPickupMs: number | null;
  /** Per job, milliseconds: worker fetch, sandbox, upload; worker finished → the coordinator's "built" line. */
  jobs: Array<{ job: string; fetchMs: number; buildMs: number; uploadMs: number; resultMs: number | null }>;
}

/** Every built result in the farm's result stream, by job name. */
async function workerTimings(url: string, namespace: string): Promise<Map<string, BuiltResult>> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = farmNames(namespace).resultStream;
    const { state } = await jsm.streams.info(stream);
    const out = new Map<string, BuiltResult>();
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (msg === null) continue;
      const result = parseResultMessage(msg.data);
      if (result.outcome === 'built') out.set(result.result.job, result);
    }
    return out;
  } finally {
    await nc.close();
  }
}

async function waitForHeartbeat(url: string, namespace: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const farm = await openFarm(nc, farmNames(namespace));
    for (let i = 0; (await liveWorkers(farm)).length < 1; i++) {
      if (i > 600) throw new Error('the worker never registered');
      await sleep(50);
    }
  } finally {
    await nc.close();
  }
}

/** Each job's sandbox seconds, in the order the jobs finished (from the "[i/n] built" lines). */
function perJobSeconds(run: CliRun): Record<string, number> {
  const order = run.lines.map((l) => /^\[\d+\/\d+\] built +(\S+) /.exec(l.text)?.[1]).filter((j): j is string => j !== undefined);
  const jobs = [...run.summary.jobs].sort((a, b) => (order.indexOf(a.job) + 1 || 1e9) - (order.indexOf(b.job) + 1 || 1e9));
  return Object.fromEntries(jobs.map((j) => [j.job, j.seconds]));
}

/** The "[i/n] built JOB in" progress lines, with their arrival times. */
function builtLines(run: CliRun): Array<{ job: string; at: number }> {
  return run.lines.flatMap((l) => {
    const job = /^\[\d+\/\d+\] built +(\S+) /.exec(l.text)?.[1];
    return job === undefined ? [] : [{ job, at: l.at }];
  });
}

function roundOf(run: CliRun, loadAverage1m: number): Round {
  const jobSeconds = run.summary.jobs.reduce((s, j) => s + j.seconds, 0);
  return {
    wallSeconds: round(run.wallSeconds),
    buildSeconds: run.summary.seconds,
    jobSeconds: round(jobSeconds),
    perJobSeconds: perJobSeconds(run),
    outsideSandboxSeconds: round(run.wallSeconds - jobSeconds),
    loadAverage1m: round(loadAverage1m),
  };
}

async function localRound(dir: string): Promise<{ round: LocalRound; run: CliRun }> {
  const project = await copyProject(dir);
  const loadAverage1m = loadavg()[0]!;
  const run = await runCli([...buildArgs(project), '-j', String(SLOTS)]);
  checkBuilt(run, 'local build');
  const base = roundOf(run, loadAverage1m);
  const filed = builtLines(run);
  const seconds = new Map(run.summary.jobs.map((j) => [j.job, j.seconds]));
  const headMs = filed[0]!.at - seconds.get(filed[0]!.job)! * 1000 - run.spawnedAt;
  const tailMs = run.exitedAt - filed.at(-1)!.at;
  return {
    run,
    round: {
      ...base,
      timeline: {
        headSeconds: round(headMs / 1000),
        sandboxSeconds: base.jobSeconds,
        betweenSeconds: round(run.wallSeconds - base.jobSeconds - headMs / 1000 - tailMs / 1000),
        tailSeconds: round(tailMs / 1000),
      },
    },
  };
}

async function farmRound(dir: string): Promise<{ round: FarmRound; run: CliRun }> {
  const project = await copyProject(join(dir, 'project'));
  const model = await loadModel({ cwd: project });
  const namespace = farmNamespace(model.distro.name, model.distro.version);
  let started = performance.now();
  const server = await startNatsServer();
  const serverStartSeconds = (performance.now() - started) / 1000;
  // Its own empty folder as cwd, HOME and work dir: an empty input cache, nothing of the project reachable.
  const workDir = join(dir, 'worker');
  started = performance.now();
  const worker = startWorker(server, namespace, workDir, ['--arch', ARCH, '-j', String(SLOTS), '-v'], { HOME: workDir });
  try {
    await worker.waitFor('slot(s) for', 60_000);
    await waitForHeartbeat(server.url, namespace);
    const workerReadySeconds = (performance.now() - started) / 1000;
    const loadAverage1m = loadavg()[0]!;
    const run = await runCli([...buildArgs(project), '--executor', 'nats', '--nats-url', server.url]);
    checkBuilt(run, 'farm build');
    const results = await workerTimings(server.url, namespace);
    const lineAt = (pattern: RegExp): number | null => run.lines.find((l) => pattern.test(l.text))?.at ?? null;
    const filedAt = new Map(builtLines(run).map((l) => [l.job, l.at]));
    const jobs = run.summary.jobs.map((j) => {
      const r = results.get(j.job);
      if (!r) throw new Error(`no worker result for ${j.job} in the result stream`);
      const filed = filedAt.get(j.job);
      return {
        job: j.job,
        startedAt: r.timing.startedAt,
        builtAt: r.timing.startedAt + r.timing.fetchMs + r.timing.buildMs,
        fetchMs: r.timing.fetchMs,
        buildMs: r.timing.buildMs,
        uploadMs: r.timing.uploadMs,
        resultMs: filed === undefined ? null : filed - r.timing.finishedAt,
      };
    });
    jobs.sort((a, b) => a.startedAt - b.startedAt);
    let idleMs = 0;
    for (let i = 1; i < jobs.length; i++) idleMs += Math.max(0, jobs[i]!.startedAt - jobs[i - 1]!.builtAt);
    const sum = (f: (j: (typeof jobs)[number]) => number): number => round(jobs.reduce((s, j) => s + f(j), 0) / 1000);
    const connected = lineAt(/farm: connected/);
    const firstJob = jobs[0]!;
    const firstPublished = lineAt(/farm: published /);
    const firstJobPublished = lineAt(new RegExp(`farm: published ${firstJob.job.replace(/[/.]/g, '\\$&')}\\b`));
    return {
      run,
      round: {
        ...roundOf(run, loadAverage1m),
        serverStartSeconds: round(serverStartSeconds),
        workerReadySeconds: round(workerReadySeconds),
        timeline: {
          headSeconds: round((firstJob.startedAt - run.spawnedAt) / 1000),
          fetchSeconds: sum((j) => j.fetchMs),
          sandboxSeconds: sum((j) => j.buildMs),
          idleSeconds: round(idleMs / 1000),
          tailSeconds: round((run.exitedAt - jobs.at(-1)!.builtAt) / 1000),
          uploadSeconds: sum((j) => j.uploadMs),
        },
        connectedSeconds: connected === null ? null : round((connected - run.spawnedAt) / 1000),
        firstPublishedSeconds: firstPublished === null ? null : round((firstPublished - run.spawnedAt) / 1000),
        firstPickupMs: firstJobPublished === null ? null : firstJob.startedAt - firstJobPublished,
        jobs: jobs.map(({ job, fetchMs, buildMs, uploadMs, resultMs }) => ({ job, fetchMs, buildMs, uploadMs, resultMs })),
      },
    };
  } catch (error) {
    process.stderr.write(`worker log:\n${worker.log()}\n`);
    throw error;
  } finally {
    await stopWorker(worker);
    await server.stop();
  }
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function stats(xs: number[]): { median: number; min: number; max: number } {
  return { median: round(median(xs)), min: round(Math.min(...xs)), max: round(Math.max(...xs)) };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-farm-distro-'));
  const loadAverageAtStart = loadavg().map((v) => round(v));
  const local: LocalRound[] = [];
  const farm: FarmRound[] = [];
  let reference: { digests: Map<string, string>; keys: Map<string, string> } | undefined;
  let jobCount = 0;
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      // Alternate the order so neither side always runs first (warmer page cache, a load spike).
      const order = r % 2 === 1 ? (['local', 'farm'] as const) : (['farm', 'local'] as const);
      for (const which of order) {
        const { round: result, run } = which === 'local' ? await localRound(join(dir, `local-${r}`)) : await farmRound(join(dir, `farm-${r}`));
        const digests = await repoDigests(run.summary);
        const keys = new Map(run.summary.jobs.map((j) => [j.job, j.key ?? '']));
        reference ??= { digests, keys };
        jobCount = run.summary.counts.total;
        const differ = sameDigests(reference.digests, digests);
        if (differ) throw new Error(`round ${r}: the ${which} build's RPMs differ from the first build's: ${differ}`);
        if (sameDigests(reference.keys, keys)) throw new Error(`round ${r}: the ${which} build's cache keys differ: ${sameDigests(reference.keys, keys)}`);
        if (which === 'local') local.push(result as LocalRound);
        else farm.push(result as FarmRound);
        await rm(join(dir, which === 'local' ? `local-${r}` : `farm-${r}`), { recursive: true, force: true });
        process.stderr.write(
          `round ${r}: ${which.padEnd(5)} ${result.wallSeconds.toFixed(2)} s (jobs ${result.jobSeconds.toFixed(2)} s, load ${result.loadAverage1m.toFixed(2)})` +
            (which === 'farm'
              ? `; server ${(result as FarmRound).serverStartSeconds} s and worker ${(result as FarmRound).workerReadySeconds} s to start, not counted`
              : '') +
            '\n',
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const localWall = stats(local.map((r) => r.wallSeconds));
  const farmWall = stats(farm.map((r) => r.wallSeconds));
  const overheadSeconds = round(farmWall.median - localWall.median);
  const pairedWall = farm.map((f, i) => round(f.wallSeconds - local[i]!.wallSeconds));
  // The same with each build's sandbox time taken out: rpmbuild's own time swings with the neighbours' load, the farm's cost should not.
  const pairedOutside = farm.map((f, i) => round(f.outsideSandboxSeconds - local[i]!.outsideSandboxSeconds));
  const outsideOverheadSeconds = round(median(pairedOutside));
  const medianOf = <T>(rounds: T[], pick: (r: T) => number | null): number => {
    const xs = rounds.map(pick).filter((v): v is number => v !== null);
    return xs.length === 0 ? NaN : round(median(xs));
  };
  const localTimeline = {
    headSeconds: medianOf(local, (r) => r.timeline.headSeconds),
    sandboxSeconds: medianOf(local, (r) => r.timeline.sandboxSeconds),
    betweenSeconds: medianOf(local, (r) => r.timeline.betweenSeconds),
    tailSeconds: medianOf(local, (r) => r.timeline.tailSeconds),
  };
  const farmTimeline = {
    headSeconds: medianOf(farm, (r) => r.timeline.headSeconds),
    fetchSeconds: medianOf(farm, (r) => r.timeline.fetchSeconds),
    sandboxSeconds: medianOf(farm, (r) => r.timeline.sandboxSeconds),
    idleSeconds: medianOf(farm, (r) => r.timeline.idleSeconds),
    tailSeconds: medianOf(farm, (r) => r.timeline.tailSeconds),
    uploadSeconds: medianOf(farm, (r) => r.timeline.uploadSeconds),
  };
  const perJobMs = (key: 'fetchMs' | 'buildMs' | 'uploadMs' | 'resultMs'): number => Math.round(medianOf(farm.flatMap((f) => f.jobs), (j) => j[key]));
  const result = {
    benchmark: 'farm-distro',
    date: new Date().toISOString(),
    host: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverageAtStart, loadAverageAtEnd: loadavg().map((v) => round(v)) },
    arch: ARCH,
    components: COMPONENTS,
    jobs: jobCount,
    slotsPerSide: SLOTS,
    rounds: ROUNDS,
    rpmsIdentical: true,
    rpms: Object.fromEntries(reference!.digests),
    local: {
      wallSeconds: localWall,
      sandboxSeconds: stats(local.map((r) => r.jobSeconds)),
      outsideSandboxSeconds: stats(local.map((r) => r.outsideSandboxSeconds)),
      timelineMedianSeconds: localTimeline,
    },
    farm: {
      wallSeconds: farmWall,
      sandboxSeconds: stats(farm.map((r) => r.jobSeconds)),
      outsideSandboxSeconds: stats(farm.map((r) => r.outsideSandboxSeconds)),
      timelineMedianSeconds: farmTimeline,
      connectedMedianSeconds: medianOf(farm, (r) => r.connectedSeconds),
      firstPublishedMedianSeconds: medianOf(farm, (r) => r.firstPublishedSeconds),
      firstPickupMedianMs: Math.round(medianOf(farm, (r) => r.firstPickupMs)),
      perJobMedianMs: { fetch: perJobMs('fetchMs'), sandbox: perJobMs('buildMs'), upload: perJobMs('uploadMs'), finishedToFiled: perJobMs('resultMs') },
      notCounted: { serverStartSeconds: stats(farm.map((r) => r.serverStartSeconds)), workerReadySeconds: stats(farm.map((r) => r.workerReadySeconds)) },
    },
    ratio: round(farmWall.median / localWall.median, 3),
    overheadSeconds,
    overheadSecondsPerJob: round(overheadSeconds / jobCount, 3),
    pairedOverheadSeconds: pairedWall,
    /** Median over rounds of (farm wall − farm sandbox) − (local wall − local sandbox). */
    outsideSandboxOverheadSeconds: outsideOverheadSeconds,
    outsideSandboxOverheadSecondsPerJob: round(outsideOverheadSeconds / jobCount, 3),
    pairedOutsideSandboxOverheadSeconds: pairedOutside,
    samples: { local, farm },
  };

  const f = result.farm;
  const range = (s: { median: number; min: number; max: number }): string => `${s.median.toFixed(2)} s (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
  process.stdout.write(
    [
      `example distro (${COMPONENTS.join(', ')}: ${jobCount} jobs, ${ARCH}), ${SLOTS} slot(s) each side, ${ROUNDS} round(s), load average ${loadAverageAtStart.join(' ')} at the start:`,
      `  local            wall ${range(localWall)}, sandbox ${range(result.local.sandboxSeconds)}, outside the sandbox ${range(result.local.outsideSandboxSeconds)}`,
      `  farm, 1 worker   wall ${range(farmWall)}, sandbox ${range(f.sandboxSeconds)}, outside the sandbox ${range(f.outsideSandboxSeconds)}`,
      `  ratio farm/local ${result.ratio}; overhead ${overheadSeconds.toFixed(2)} s, ${(result.overheadSecondsPerJob * 1000).toFixed(0)} ms/job (per round ${pairedWall.map((p) => p.toFixed(2)).join(', ')} s)`,
      `  outside the sandbox: overhead ${outsideOverheadSeconds.toFixed(2)} s, ${(result.outsideSandboxOverheadSecondsPerJob * 1000).toFixed(0)} ms/job (per round ${pairedOutside.map((p) => p.toFixed(2)).join(', ')} s)`,
      `  local, median s: head ${localTimeline.headSeconds}, sandbox ${localTimeline.sandboxSeconds}, between jobs ${localTimeline.betweenSeconds}, tail ${localTimeline.tailSeconds}`,
      `  farm, median s:  head ${farmTimeline.headSeconds} (connected at ${f.connectedMedianSeconds}, first published at ${f.firstPublishedMedianSeconds}, picked up ${f.firstPickupMedianMs} ms later), ` +
        `fetch ${farmTimeline.fetchSeconds}, sandbox ${farmTimeline.sandboxSeconds}, idle between jobs ${farmTimeline.idleSeconds}, tail ${farmTimeline.tailSeconds} (upload ${farmTimeline.uploadSeconds} overlaps idle and tail)`,
      `  farm per job, median ms: fetch ${f.perJobMedianMs.fetch}, sandbox ${f.perJobMedianMs.sandbox}, upload ${f.perJobMedianMs.upload}, worker finished → coordinator filed ${f.perJobMedianMs.finishedToFiled}`,
      `  not counted: nats-server start ${range(f.notCounted.serverStartSeconds)}, worker start to heartbeat ${range(f.notCounted.workerReadySeconds)}`,
      `  RPMs byte-identical in all ${ROUNDS * 2} builds: yes`,
      '',
    ].join('\n'),
  );
  const out = resolve(values.out!);
  await mkdir(resolve(out, '..'), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
}

await main();
