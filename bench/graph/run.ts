/**
 * Graph benchmark: a synthetic tree of N specs (default 2,000), evaluated and
 * resolved side by side in one run:
 *   - strata cold: empty cache, batched rpmspec, then the graph;
 *   - strata warm: same tree again (in process, and as a whole `strata graph --json` command);
 *   - baseline: the same three rpmspec queries (source header, binary headers,
 *     parsed spec) run one process per spec per query, with the same
 *     parallelism and the same macro context, as per-spec tools do.
 * With --sweep, also cold evaluation of 400 specs at several batch sizes.
 *
 *   node dist/bench/graph/run.js [--specs N] [--sweep] [--keep]
 *
 * Writes bench/results/graph.json.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { loadProject } from '../../src/config/load.js';
import { renderComponents } from '../../src/overlays/render.js';
import { cacheDirOf, chooseBatchSize, evaluateSpecs } from '../../src/spec/evaluate.js';
import { prepareMacroContext } from '../../src/spec/macro-context.js';
import { BINARY_QF, SOURCE_QF } from '../../src/spec/rpmspec-runner.js';
import { buildGraph } from '../../src/graph/build-graph.js';
import { createLogger } from '../../src/util/log.js';
import { run } from '../../src/util/process.js';
import { generateTree } from './generate.js';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

const seconds = (start: number): number => Math.round((performance.now() - start) / 10) / 100;

/**
 * CPU seconds used so far by this process and by its waited-for children
 * (rpmspec), from /proc/self/stat: on a shared, loaded machine wall time says
 * little, CPU time says what the work costs.
 */
async function cpuSeconds(): Promise<{ self: number; children: number }> {
  const fields = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1]!.split(' ');
  const usage = process.cpuUsage();
  // Fields 16 and 17 of stat (cutime, cstime), in clock ticks of 1/100 s; index 13/14 after the name.
  return { self: (usage.user + usage.system) / 1e6, children: (Number(fields[13]) + Number(fields[14])) / 100 };
}

async function cpuSince(start: { self: number; children: number }): Promise<{ self: number; children: number; total: number }> {
  const now = await cpuSeconds();
  const self = Math.round((now.self - start.self) * 100) / 100;
  const children = Math.round((now.children - start.children) * 100) / 100;
  return { self, children, total: Math.round((self + children) * 100) / 100 };
}
const log = createLogger('quiet');
const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '../../..');

async function main(): Promise<void> {
  const count = option('--specs', 2000);
  const root = await mkdtemp(join(tmpdir(), 'strata-bench-graph-'));
  try {
    const tree = await generateTree(root, count);
    const model = await loadProject({ cwd: root });
    const jobs = availableParallelism();
    const renderStart = performance.now();
    const rendered = await renderComponents(model);
    const renderSeconds = seconds(renderStart);
    process.stderr.write(`generated ${count} specs in ${root}; rendered in ${renderSeconds} s; load ${loadavg()[0]!.toFixed(1)}\n`);

    // Baseline first, so that strata's cold run cannot profit from a warmer page cache.
    const context = await prepareMacroContext(model, 'x86_64', cacheDirOf(model));
    const limit = pLimit(jobs);
    const baselineStart = performance.now();
    const baselineCpu = await cpuSeconds();
    let failures = 0;
    await Promise.all(
      Object.values(model.components).map((component) =>
        limit(async () => {
          for (const query of [['-q', '--srpm', '--qf', SOURCE_QF], ['-q', '--qf', BINARY_QF], ['-P']]) {
            const result = await run('rpmspec', [...context.rpmArgs, ...query, component.specPath], { env: context.env, allowFailure: true });
            if (result.exitCode !== 0) failures++;
          }
        }),
      ),
    );
    const baseline = { seconds: seconds(baselineStart), cpuSeconds: await cpuSince(baselineCpu), processes: count * 3, failures };
    process.stderr.write(`baseline: ${baseline.seconds} s\n`);

    const coldStart = performance.now();
    const coldCpu = await cpuSeconds();
    const cold = await evaluateSpecs(model, rendered, 'x86_64', { log, allowFailures: true });
    const graph = buildGraph(model, cold.facts, 'x86_64');
    const coldSeconds = seconds(coldStart);
    const coldCpuSeconds = await cpuSince(coldCpu);
    const peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
    process.stderr.write(`strata cold: ${coldSeconds} s\n`);

    const warmStart = performance.now();
    const warmCpu = await cpuSeconds();
    const warm = await evaluateSpecs(model, rendered, 'x86_64', { log, allowFailures: true });
    buildGraph(model, warm.facts, 'x86_64');
    const warmSeconds = seconds(warmStart);
    const warmCpuSeconds = await cpuSince(warmCpu);

    const cliStart = performance.now();
    const cliCpu = await cpuSeconds();
    const cli = await run('node', [join(repo, 'dist/src/cli/main.js'), '-C', root, 'graph', '--json', '--arch', 'x86_64'], { allowFailure: true });
    const cliSeconds = seconds(cliStart);
    const cliCpuSeconds = await cpuSince(cliCpu);
    const cliStats = cli.exitCode === 0 ? (JSON.parse(cli.stdout) as { stats: Record<string, number> }).stats : null;
    process.stderr.write(`strata warm: ${warmSeconds} s in process, ${cliSeconds} s as a command\n`);

    const sweep: Array<{ batchSize: number; seconds: number }> = [];
    if (flag('--sweep')) {
      const sample = rendered.slice(0, Math.min(400, rendered.length));
      for (const batchSize of [1, 16, 48, 96]) {
        const start = performance.now();
        await evaluateSpecs(model, sample, 'x86_64', { log, allowFailures: true, noCache: true, batchSize });
        sweep.push({ batchSize, seconds: seconds(start) });
        process.stderr.write(`sweep: ${sample.length} specs, batch ${batchSize}: ${sweep[sweep.length - 1]!.seconds} s\n`);
      }
    }

    const results = {
      benchmark: 'graph',
      date: new Date().toISOString(),
      node: process.version,
      rpm: context.rpmVersion,
      cpus: jobs,
      loadAverageAtStart: Number(loadavg()[0]!.toFixed(2)),
      specs: count,
      batchSize: chooseBatchSize(count, jobs),
      renderSeconds,
      baseline,
      strataCold: { seconds: coldSeconds, cpuSeconds: coldCpuSeconds, evaluated: cold.stats.evaluated, batches: cold.stats.batches, failures: cold.failures.length },
      strataWarm: { seconds: warmSeconds, cpuSeconds: warmCpuSeconds, cacheHits: warm.stats.cacheHits, evaluated: warm.stats.evaluated },
      strataWarmCommand: { seconds: cliSeconds, cpuSeconds: cliCpuSeconds, exitCode: cli.exitCode, cacheHits: cliStats?.cacheHits ?? null },
      coldOverBaseline: Math.round((coldSeconds / baseline.seconds) * 1000) / 1000,
      coldOverBaselineCpu: Math.round((coldCpuSeconds.total / baseline.cpuSeconds.total) * 1000) / 1000,
      peakRssMB,
      graph: {
        components: graph.stats.components,
        edges: graph.stats.edges,
        cycles: graph.stats.cycles,
        componentsInCycles: graph.stats.componentsInCycles,
        generatedCycleMembers: tree.cycleMembers,
        unresolved: graph.stats.unresolved,
        resolvedShare: round(graph.stats.resolvedShare!),
        resolvedShareWithoutPrediction: round(graph.stats.resolvedShareWithoutPrediction!),
      },
      sweep,
      targets: { coldOverBaseline: 1 / 3, warmSeconds: 1, peakRssMB: 1024 },
      met: {
        coldOverBaseline: coldSeconds / baseline.seconds <= 1 / 3,
        warm: warmSeconds < 1,
        warmCpu: warmCpuSeconds.total < 1,
        memory: peakRssMB < 1024,
      },
    };
    await writeFile(join(here, '../../../bench/results/graph.json'), `${JSON.stringify(results, null, 1)}\n`);
    process.stdout.write(`${JSON.stringify(results, null, 1)}\n`);
  } finally {
    if (!flag('--keep')) await rm(root, { recursive: true, force: true });
    else process.stderr.write(`kept ${root}\n`);
  }
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
