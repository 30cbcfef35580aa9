/**
 * What strata remembers between builds, besides the cache itself: how long
 * each job took (the scheduler's weights) and, per job, a readable record of
 * the inputs of its last successful build, so that `--explain` can say which
 * input changed (the spec, an overlay, a source, a dependency's RPMs, the
 * macros, the build root, strata's recipe).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';

export interface InputRecord {
  job: string;
  key: string;
  recipe: string;
  buildRoot: string;
  macros: string;
  spec: { file: string; base: string; rendered: string };
  /** Overlays in order: identity of each definition, with where it is written. */
  overlays: Array<{ index: number; type: string; at: string; description: string | null; sha256: string }>;
  /** Files of the job (path → sha256), the spec excluded. */
  sources: Record<string, string>;
  /** Dependency RPM file → sha256. */
  dependencies: Record<string, string>;
  /** Anything else in the key (check, arch, timeout-free settings), hashed. */
  settings: string;
}

function historyDir(cacheDir: string): string {
  return join(cacheDir, 'build');
}

function recordPath(cacheDir: string, job: string): string {
  return join(historyDir(cacheDir), 'last', `${job.replace('/', '.')}.json`);
}

export async function readInputRecord(cacheDir: string, job: string): Promise<InputRecord | null> {
  try {
    return JSON.parse(await readFile(recordPath(cacheDir, job), 'utf8')) as InputRecord;
  } catch {
    return null;
  }
}

export async function writeInputRecord(cacheDir: string, record: InputRecord): Promise<void> {
  await writeFileAtomic(recordPath(cacheDir, record.job), `${JSON.stringify(record, null, 1)}\n`);
}

export async function readDurations(cacheDir: string): Promise<Record<string, number>> {
  try {
    return JSON.parse(await readFile(join(historyDir(cacheDir), 'durations.json'), 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

/** Merges this run's durations into the remembered ones (re-read first: another run may have written meanwhile). */
export async function saveDurations(cacheDir: string, measured: Record<string, number>): Promise<void> {
  if (Object.keys(measured).length === 0) return;
  const merged = { ...(await readDurations(cacheDir)), ...measured };
  const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : 1)));
  await writeFileAtomic(join(historyDir(cacheDir), 'durations.json'), `${JSON.stringify(sorted, null, 1)}\n`);
}

function diffMaps(what: string, before: Record<string, string>, after: Record<string, string>): string[] {
  const out: string[] = [];
  for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    if (before[name] === after[name]) continue;
    if (before[name] === undefined) out.push(`${what} ${name} added`);
    else if (after[name] === undefined) out.push(`${what} ${name} removed`);
    else out.push(`${what} ${name} changed (${before[name]!.slice(0, 12)} → ${after[name]!.slice(0, 12)})`);
  }
  return out;
}

/** Dependency RPM files grouped by package name, so a new version reads as one change. */
function byPackage(files: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [file, sha] of Object.entries(files)) {
    const name = file.replace(/-[^-]+-[^-]+\.[^.]+\.rpm$/, '');
    out[name] = out[name] === undefined ? `${file}:${sha}` : `${out[name]},${file}:${sha}`;
  }
  return out;
}

/** Why a job's key differs from its last build's, in words; empty when nothing differs. */
export function explainChange(before: InputRecord | null, after: InputRecord): string[] {
  if (before === null) return ['no earlier build of this job is recorded'];
  if (before.key === after.key) return [];
  const reasons: string[] = [];
  if (before.recipe !== after.recipe) reasons.push(`strata's build recipe changed (${before.recipe} → ${after.recipe})`);
  if (before.buildRoot !== after.buildRoot) reasons.push('the build root changed (its packages or image)');
  if (before.macros !== after.macros) reasons.push('the macro context changed (rpm configuration, macro files or defines)');
  const overlays = Math.max(before.overlays.length, after.overlays.length);
  let overlayChanged = false;
  for (let i = 0; i < overlays; i++) {
    const a = before.overlays[i];
    const b = after.overlays[i];
    if (a?.sha256 === b?.sha256) continue;
    overlayChanged = true;
    if (!a) reasons.push(`overlay #${b!.index} (${b!.type}) at ${b!.at} added${b!.description ? `: ${b!.description}` : ''}`);
    else if (!b) reasons.push(`overlay #${a.index} (${a.type}) at ${a.at} removed`);
    else reasons.push(`overlay #${b.index} (${b.type}) at ${b.at} changed${b.description ? `: ${b.description}` : ''}`);
  }
  if (before.spec.base !== after.spec.base) reasons.push(`spec file ${after.spec.file} changed`);
  else if (before.spec.rendered !== after.spec.rendered && !overlayChanged) reasons.push(`the rendered spec ${after.spec.file} changed`);
  reasons.push(...diffMaps('source', before.sources, after.sources));
  const depsBefore = byPackage(before.dependencies);
  const depsAfter = byPackage(after.dependencies);
  for (const name of [...new Set([...Object.keys(depsBefore), ...Object.keys(depsAfter)])].sort()) {
    if (depsBefore[name] === depsAfter[name]) continue;
    if (depsBefore[name] === undefined) reasons.push(`now needs dependency ${name}`);
    else if (depsAfter[name] === undefined) reasons.push(`no longer needs dependency ${name}`);
    else reasons.push(`dependency ${name} was rebuilt with different bytes`);
  }
  if (reasons.length === 0 && before.settings !== after.settings) reasons.push('build settings changed (arch, %check)');
  if (reasons.length === 0) reasons.push('an input outside the recorded ones changed');
  return reasons;
}
