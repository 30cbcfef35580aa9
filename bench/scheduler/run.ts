/**
 * Scheduler benchmark: synthetic build DAGs of 200–2,000 jobs with skewed
 * durations, run through the real scheduler (src/build/scheduler.ts) with an
 * executor that only sleeps. Reports each makespan against the lower bound
 * max(critical path, total work / N), for critical-path priority with exact
 * and with noisy remembered durations, and for plain leaf-first order (ready
 * jobs in name order, no durations known).
 *
 * Two clocks: `virtual` sleeps advance a simulated clock once every running
 * job is asleep (the scheduler code is the same; the makespan is exactly what
 * its decisions give, whatever else the host is doing), and `wall` sleeps are
 * real timers (the makespan then includes timer lateness on a busy host).
 *
 *   node dist/bench/scheduler/run.js [--quick]
 *
 * Writes bench/results/scheduler.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { remainingPathLengths, runSchedule, type ScheduledTask } from '../../src/build/scheduler.js';
import { seededRandom as random } from '../../src/util/prng.js';

interface Dag {
  name: string;
  tasks: ScheduledTask[];
  /** True duration of each task in ms. */
  durations: Map<string, number>;
}

/**
 * A distro-shaped DAG: a few heavy toolchain-like jobs early that much depends
 * on, most jobs small leaves and libraries; durations Pareto-distributed
 * (most builds take seconds, a few take very long). Names are random so that
 * name order carries no information.
 */
function makeDag(size: number, seed: number, scaleMs: number): Dag {
  const rand = random(seed);
  const tasks: ScheduledTask[] = [];
  const durations = new Map<string, number>();
  const ids: string[] = [];
  for (let i = 0; i < size; i++) {
    const id = `pkg-${Math.floor(rand() * 1e9).toString(36)}-${i}`;
    // Pareto(alpha = 1.3), capped: a long tail of slow builds.
    const pareto = Math.min(60, 1 / Math.pow(1 - rand(), 1 / 1.3));
    const duration = Math.max(1, Math.round(pareto * scaleMs));
    const deps = new Set<string>();
    if (i > 0) {
      const count = Math.floor(rand() * 4);
      for (let d = 0; d < count; d++) {
        // Prefer early jobs (the base of the distro) and recent ones (a library's consumers).
        const j = rand() < 0.5 ? Math.floor(Math.pow(rand(), 3) * i) : Math.max(0, i - 1 - Math.floor(rand() * 20));
        deps.add(ids[j]!);
      }
    }
    ids.push(id);
    durations.set(id, duration);
    tasks.push({ id, deps: [...deps], weight: duration / 1000 });
  }
  return { name: `dag-${size}`, tasks, durations };
}

function lowerBound(dag: Dag, slots: number): { criticalPath: number; workPerSlot: number; bound: number } {
  const lengths = remainingPathLengths(dag.tasks.map((t) => ({ ...t, weight: dag.durations.get(t.id)! })));
  const criticalPath = Math.max(...lengths.values());
  const workPerSlot = [...dag.durations.values()].reduce((a, b) => a + b, 0) / slots;
  return { criticalPath, workPerSlot, bound: Math.max(criticalPath, workPerSlot) };
}

/**
 * Simulated time: a sleep registers a wake-up; once the scheduler has started
 * everything it is going to start (its work runs in microtasks, so one
 * setImmediate later), the clock jumps to the earliest wake-up.
 */
class VirtualClock {
  now = 0;
  private sleepers: Array<{ at: number; wake: () => void }> = [];
  private armed = false;

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => {
      this.sleepers.push({ at: this.now + ms, wake });
      this.arm();
    });
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    setImmediate(() => {
      this.armed = false;
      if (this.sleepers.length === 0) return;
      const at = Math.min(...this.sleepers.map((s) => s.at));
      this.now = at;
      const due = this.sleepers.filter((s) => s.at === at);
      this.sleepers = this.sleepers.filter((s) => s.at !== at);
      for (const sleeper of due) sleeper.wake();
      this.arm();
    });
  }
}

type Clock = 'virtual' | 'wall';

async function makespan(dag: Dag, slots: number, weights: Map<string, number>, clock: Clock): Promise<number> {
  const tasks = dag.tasks.map((t) => ({ ...t, weight: weights.get(t.id)! }));
  const virtual = new VirtualClock();
  const sleep = (ms: number): Promise<void> => (clock === 'virtual' ? virtual.sleep(ms) : new Promise((resolvePromise) => setTimeout(resolvePromise, ms)));
  const started = performance.now();
  const statuses = await runSchedule(tasks, async (id) => {
    await sleep(dag.durations.get(id)!);
    return 'succeeded';
  }, { concurrency: slots, keepGoing: false });
  if ([...statuses.values()].some((s) => s.state !== 'succeeded')) throw new Error('a synthetic task did not succeed');
  return clock === 'virtual' ? virtual.now : performance.now() - started;
}

interface Row {
  clock: Clock;
  dag: string;
  jobs: number;
  edges: number;
  slots: number;
  criticalPathMs: number;
  workPerSlotMs: number;
  lowerBoundMs: number;
  criticalPathFirstMs: number;
  noisyEstimatesMs: number;
  leafFirstMs: number;
  criticalPathFirstOverBound: number;
  noisyOverBound: number;
  leafFirstOverBound: number;
}

async function measure(size: number, slots: number, clock: Clock): Promise<Row> {
  // Durations scaled so that a wall-clock run takes a few seconds whatever the size.
  const dag = makeDag(size, 0x5eed + size, 8000 / size);
  const { criticalPath, workPerSlot, bound } = lowerBound(dag, slots);
  const noiseRand = random(size * 31 + slots);
  // Remembered durations are never exact: ±30 % per job.
  const noisy = new Map([...dag.durations].map(([id, ms]) => [id, ms * (0.7 + 0.6 * noiseRand())]));
  const cp = await makespan(dag, slots, dag.durations, clock);
  const noisyMs = await makespan(dag, slots, noisy, clock);
  const leaf = await makespan(dag, slots, new Map(dag.tasks.map((t) => [t.id, 0])), clock);
  const row: Row = {
    clock,
    dag: dag.name,
    jobs: size,
    edges: dag.tasks.reduce((n, t) => n + t.deps.length, 0),
    slots,
    criticalPathMs: Math.round(criticalPath),
    workPerSlotMs: Math.round(workPerSlot),
    lowerBoundMs: Math.round(bound),
    criticalPathFirstMs: Math.round(cp),
    noisyEstimatesMs: Math.round(noisyMs),
    leafFirstMs: Math.round(leaf),
    criticalPathFirstOverBound: +(cp / bound).toFixed(3),
    noisyOverBound: +(noisyMs / bound).toFixed(3),
    leafFirstOverBound: +(leaf / bound).toFixed(3),
  };
  console.log(
    `${clock.padEnd(7)} ${dag.name.padEnd(9)} N=${String(slots).padEnd(2)} bound ${String(row.lowerBoundMs).padStart(5)} ms (cp ${row.criticalPathMs}, work/N ${row.workPerSlotMs})` +
      `  critical-path-first ${String(row.criticalPathFirstMs).padStart(5)} ms (${row.criticalPathFirstOverBound}x)` +
      `  noisy ${String(row.noisyEstimatesMs).padStart(5)} ms (${row.noisyOverBound}x)` +
      `  leaf-first ${String(row.leafFirstMs).padStart(5)} ms (${row.leafFirstOverBound}x)`,
  );
  return row;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sizes = quick ? [200, 500] : [200, 500, 1000, 2000];
  const rows: Row[] = [];
  for (const size of sizes) for (const slots of [4, 16, 64]) rows.push(await measure(size, slots, 'virtual'));
  for (const size of quick ? [200] : [200, 2000]) rows.push(await measure(size, 16, 'wall'));
  // The scheduler's own cost: the largest DAG with jobs that finish at once,
  // in CPU time (wall time on a shared host measures the neighbours).
  const largest = makeDag(sizes[sizes.length - 1]!, 0x5eed, 1);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before = process.cpuUsage();
    await runSchedule(largest.tasks, async () => 'succeeded', { concurrency: 16, keepGoing: false });
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / largest.tasks.length);
  }
  const overheadUsPerJob = +Math.min(...samples).toFixed(1);
  console.log(`scheduler overhead: ${overheadUsPerJob} µs CPU per job (best of 5, ${largest.tasks.length} jobs that finish at once)`);
  const virtualRows = rows.filter((r) => r.clock === 'virtual');
  const worst = Math.max(...virtualRows.map((r) => r.criticalPathFirstOverBound));
  const worstNoisy = Math.max(...virtualRows.map((r) => r.noisyOverBound));
  const worstLeaf = Math.max(...virtualRows.map((r) => r.leafFirstOverBound));
  console.log(`worst over the bound (virtual clock): critical-path-first ${worst}x (target ≤ 1.05x), with ±30 % estimates ${worstNoisy}x, leaf-first ${worstLeaf}x`);
  const out = resolve(import.meta.dirname, '../../../bench/results');
  await mkdir(out, { recursive: true });
  await writeFile(
    join(out, 'scheduler.json'),
    `${JSON.stringify({ benchmark: 'scheduler', date: new Date().toISOString(), node: process.version, quick, target: 1.05, worst: { criticalPathFirst: worst, noisyEstimates: worstNoisy, leafFirst: worstLeaf }, overheadUsPerJob, rows }, null, 1)}\n`,
  );
}

await main();
