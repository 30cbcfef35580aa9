/**
 * Scheduler benchmark: synthetic build DAGs of 200–2,000 jobs with skewed
 * durations, run through the real scheduler (src/build/scheduler.ts) with an
 * executor that only sleeps. Reports each makespan against the lower bound
 * max(critical path, total work / N), for critical-path priority with exact
 * and with noisy remembered durations, and for plain leaf-first order (ready
 * jobs in name order, no durations known).
 *
 *   node dist/bench/scheduler/run.js [--quick]
 *
 * Writes bench/results/scheduler.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { remainingPathLengths, runSchedule, type ScheduledTask } from '../../src/build/scheduler.js';

/** Deterministic PRNG (mulberry32) so that every run measures the same graphs. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

async function makespan(dag: Dag, slots: number, weights: Map<string, number>): Promise<number> {
  const tasks = dag.tasks.map((t) => ({ ...t, weight: weights.get(t.id)! }));
  const started = performance.now();
  const statuses = await runSchedule(tasks, (id) => new Promise((resolvePromise) => setTimeout(() => resolvePromise('succeeded'), dag.durations.get(id)!)), {
    concurrency: slots,
    keepGoing: false,
  });
  if ([...statuses.values()].some((s) => s.state !== 'succeeded')) throw new Error('a synthetic task did not succeed');
  return performance.now() - started;
}

interface Row {
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

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sizes = quick ? [200, 500] : [200, 500, 1000, 2000];
  const slotCounts = [4, 16];
  const rows: Row[] = [];
  for (const size of sizes) {
    // Scale durations so each run takes a few seconds whatever the size.
    const dag = makeDag(size, 0x5eed + size, 8000 / size);
    const edges = dag.tasks.reduce((n, t) => n + t.deps.length, 0);
    for (const slots of slotCounts) {
      const { criticalPath, workPerSlot, bound } = lowerBound(dag, slots);
      const exact = new Map([...dag.durations].map(([id, ms]) => [id, ms]));
      const noiseRand = random(size * 31 + slots);
      const noisy = new Map([...dag.durations].map(([id, ms]) => [id, ms * (0.7 + 0.6 * noiseRand())]));
      const none = new Map(dag.tasks.map((t) => [t.id, 0]));
      const cp = await makespan(dag, slots, exact);
      const noisyMs = await makespan(dag, slots, noisy);
      const leaf = await makespan(dag, slots, none);
      const row: Row = {
        dag: dag.name,
        jobs: size,
        edges,
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
      rows.push(row);
      console.log(
        `${dag.name.padEnd(9)} N=${String(slots).padEnd(2)} bound ${String(row.lowerBoundMs).padStart(5)} ms (cp ${row.criticalPathMs}, work/N ${row.workPerSlotMs})` +
          `  critical-path-first ${String(row.criticalPathFirstMs).padStart(5)} ms (${row.criticalPathFirstOverBound}x)` +
          `  noisy ${String(row.noisyEstimatesMs).padStart(5)} ms (${row.noisyOverBound}x)` +
          `  leaf-first ${String(row.leafFirstMs).padStart(5)} ms (${row.leafFirstOverBound}x)`,
      );
    }
  }
  // The scheduler's own cost: the largest DAG with jobs that finish at once.
  const largest = makeDag(sizes[sizes.length - 1]!, 0x5eed, 1);
  const overheadStart = performance.now();
  await runSchedule(largest.tasks, async () => 'succeeded', { concurrency: 16, keepGoing: false });
  const overheadUsPerJob = +(((performance.now() - overheadStart) * 1000) / largest.tasks.length).toFixed(1);
  console.log(`scheduler overhead: ${overheadUsPerJob} µs per job (${largest.tasks.length} jobs that finish at once)`);
  const worst = Math.max(...rows.map((r) => r.criticalPathFirstOverBound));
  console.log(`worst critical-path-first makespan: ${worst}x the lower bound (target ≤ 1.05x)`);
  const out = resolve(import.meta.dirname, '../../../bench/results');
  await mkdir(out, { recursive: true });
  await writeFile(
    join(out, 'scheduler.json'),
    `${JSON.stringify({ benchmark: 'scheduler', date: new Date().toISOString(), node: process.version, quick, target: 1.05, worstCriticalPathFirstOverBound: worst, overheadUsPerJob, rows }, null, 1)}\n`,
  );
}

await main();
