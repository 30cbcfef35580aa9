/**
 * No-op rebuild benchmark: `strata build --all-arches` of the example distro
 * when everything is cached, against `strata --version` (the cost of starting
 * strata at all). Target: at most 3× --version.
 *
 *   node dist/bench/noop/run.js [--runs N]
 *
 * The first, untimed run builds whatever is not cached yet (slow the first
 * time: the example distro includes busybox). Writes bench/results/noop.json.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../../..');
const cli = join(repo, 'dist/src/cli/main.js');

async function timed(args: string[]): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  const { stdout } = await run(process.execPath, [cli, ...args], { cwd: repo, maxBuffer: 64 * 1024 * 1024 });
  return { ms: performance.now() - started, stdout };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 7;
  const build = ['build', '--all-arches', '--json', '--quiet'];
  console.log('warming up: building anything not cached yet (untimed)…');
  await timed(build);
  const noop: number[] = [];
  const version: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so that a change in host load hits both series alike.
    const result = await timed(build);
    const summary = JSON.parse(result.stdout) as { counts: { built: number; cached: number; total: number } };
    if (summary.counts.built !== 0) throw new Error(`run ${i + 1} built ${summary.counts.built} job(s): not a no-op`);
    noop.push(result.ms);
    version.push((await timed(['--version'])).ms);
  }
  const noopMs = median(noop);
  const versionMs = median(version);
  const ratio = +(noopMs / versionMs).toFixed(2);
  console.log(`strata --version:               median ${versionMs.toFixed(0)} ms  (${version.map((v) => v.toFixed(0)).join(', ')})`);
  console.log(`strata build --all-arches no-op: median ${noopMs.toFixed(0)} ms  (${noop.map((v) => v.toFixed(0)).join(', ')})`);
  console.log(`ratio ${ratio}x (target ≤ 3x)`);
  const out = join(repo, 'bench/results');
  await mkdir(out, { recursive: true });
  await writeFile(
    join(out, 'noop.json'),
    `${JSON.stringify({ benchmark: 'noop', date: new Date().toISOString(), node: process.version, runs, target: 3, versionMs: Math.round(versionMs), noopMs: Math.round(noopMs), ratio, samples: { version: version.map(Math.round), noop: noop.map(Math.round) } }, null, 1)}\n`,
  );
}

await main();
