/**
 * Shared pieces of the reliability tests: the fixture project
 * (test/fixtures/reliability/project, two components with a dependency edge and
 * an image), running the real CLI on a copy of it, and the checks every test
 * makes of what a run left behind: output bytes, cache entries that verify,
 * scratch files nobody will trust.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { sha256File } from '../../src/util/hash.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const FIXTURE_PROJECT = join(REPO, 'test/fixtures/reliability/project');
export const IMAGE = 'relimg';
export const ARCH = 'x86_64';

/** A fresh copy of the fixture project (or of `from`) in a temporary folder, or under `parent`. */
export async function copyProject(tag: string, options: { from?: string; parent?: string } = {}): Promise<string> {
  const dir = await mkdtemp(join(options.parent ?? tmpdir(), `strata-rel-${tag}-`));
  const project = join(dir, 'project');
  await cp(options.from ?? FIXTURE_PROJECT, project, { recursive: true });
  return project;
}

/** Removes a project made by copyProject (its temporary parent folder). */
export async function removeProject(project: string): Promise<void> {
  await rm(join(project, '..'), { recursive: true, force: true });
}

export interface CliResult {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  ms: number;
}

export async function strata(project: string, args: string[], options: { timeoutMs?: number } = {}): Promise<CliResult> {
  const started = Date.now();
  const result = await execa('node', [CLI, '-C', project, ...args], {
    reject: false,
    env: { NO_COLOR: '1', CI: 'true' },
    timeout: options.timeoutMs ?? 240_000,
    stdin: 'ignore',
  });
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    ms: Date.now() - started,
  };
}

/** Starts the CLI without waiting: the interruption and concurrency tests drive it. */
export function spawnStrata(project: string, args: string[]): { child: ChildProcess; stderr: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn('node', [CLI, '-C', project, ...args], { env: { ...process.env, NO_COLOR: '1', CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (err += chunk));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => err, exited };
}

/** The trusted outputs of a run: every RPM of out/repo/ARCH and every image artifact, by path relative to out/. */
export async function outputHashes(project: string): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  const repo = join(project, 'out/repo', ARCH);
  for (const name of (await readdir(repo).catch(() => [] as string[])).sort()) {
    if (name.endsWith('.rpm') && !name.startsWith('.')) hashes.set(`repo/${ARCH}/${name}`, await sha256File(join(repo, name)));
  }
  const images = join(project, 'out/images', IMAGE, ARCH);
  for (const name of (await readdir(images).catch(() => [] as string[])).sort()) {
    if (name.startsWith('.')) continue;
    const st = await stat(join(images, name));
    if (st.isFile()) hashes.set(`images/${IMAGE}/${ARCH}/${name}`, await sha256File(join(images, name)));
  }
  return hashes;
}

export interface CacheCheck {
  /** Entries under jobs/ whose manifest verifies byte for byte. */
  good: string[];
  /** Entries under a final (non-hidden) name that would not verify: these must never exist. */
  bad: string[];
  /** Hidden scratch names left in jobs/ (not trusted, but litter). */
  scratch: string[];
}

/** Checks every build cache entry the way a reader must: manifest, then each RPM's size and SHA-256. */
export async function checkCache(project: string): Promise<CacheCheck> {
  const jobs = join(project, '.strata-cache/jobs');
  const result: CacheCheck = { good: [], bad: [], scratch: [] };
  for (const name of (await readdir(jobs).catch(() => [] as string[])).sort()) {
    if (name.startsWith('.')) {
      result.scratch.push(name);
      continue;
    }
    const problem = await entryProblem(join(jobs, name), name);
    if (problem === null) result.good.push(name);
    else result.bad.push(`${name}: ${problem}`);
  }
  return result;
}

async function entryProblem(dir: string, key: string): Promise<string | null> {
  let manifest: { key?: string; artifacts?: Array<{ file: string; sha256: string; size: number }> };
  try {
    manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as typeof manifest;
  } catch (error) {
    return `manifest.json unreadable (${(error as Error).message})`;
  }
  if (manifest.key !== key) return `manifest names key ${String(manifest.key)}`;
  if (!Array.isArray(manifest.artifacts) || manifest.artifacts.length === 0) return 'no artifacts';
  for (const artifact of manifest.artifacts) {
    const path = join(dir, 'rpms', artifact.file);
    const st = await stat(path).catch(() => null);
    if (!st) return `${artifact.file} missing`;
    if (st.size !== artifact.size) return `${artifact.file} is ${st.size} bytes, manifest says ${artifact.size}`;
    if ((await sha256File(path)) !== artifact.sha256) return `${artifact.file} sha256 differs from the manifest`;
  }
  return null;
}

/** Every file or folder below `root` whose name marks it as scratch of an atomic write or a job. */
export async function scratchLeft(root: string): Promise<string[]> {
  const found: string[] = [];
  async function visit(dir: string, rel: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (/\.tmp-|^\.out-|^\.new-|^\.damaged-|^\.import-|^\.gc-|^\.\d+-/.test(entry.name)) found.push(childRel);
      else if (entry.isDirectory()) await visit(join(dir, entry.name), childRel);
    }
  }
  await visit(root, '');
  return found.sort();
}

/** Processes (pid and command) whose command line mentions `needle`, other than this one. */
export async function processesMentioning(needle: string): Promise<Array<{ pid: number; command: string }>> {
  const found: Array<{ pid: number; command: string }> = [];
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (command.includes(needle)) found.push({ pid, command: command.split('\0').join(' ').trim() });
  }
  return found;
}

export function diffMaps(expected: Map<string, string>, actual: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [path, hash] of expected) {
    const got = actual.get(path);
    if (got === undefined) problems.push(`missing ${path}`);
    else if (got !== hash) problems.push(`${path}: ${got} != ${hash}`);
  }
  for (const path of actual.keys()) if (!expected.has(path)) problems.push(`unexpected ${path}`);
  return problems;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
