/**
 * Runs rpmspec over a batch of specs in one macro context: three processes per
 * batch (source header query, binary header query, parsed text) instead of
 * three per spec. rpmspec carries on past a spec it cannot parse, but its output
 * then cannot be split with confidence, so a failed batch is rerun in halves
 * down to the bad spec, whose own rpm message is reported.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DepFlag, Dependency } from './model.js';
import type { MacroContext } from './macro-context.js';
import { specForParse, splitParsedOutput } from './parsed-spec.js';
import { run } from '../util/process.js';

export interface SpecInput {
  component: string;
  /** File name of the spec (kept, so rpm's messages name the file the user knows). */
  specFile: string;
  specText: string;
  /**
   * The component's folder: %{_sourcedir} while this spec is parsed, for specs
   * that read their sources at parse time (`%include %{SOURCE1}`, Lua io.open).
   */
  sourceDir?: string;
}

export interface QueriedPackage {
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  provides: Dependency[];
  requires: Dependency[];
}

export interface SpecQuery {
  component: string;
  source: {
    name: string;
    epoch: number | null;
    version: string;
    release: string;
    exclusiveArch: string[];
    excludeArch: string[];
    buildRequires: Dependency[];
  };
  /** Every package the spec declares, main package first, in spec order. */
  packages: QueriedPackage[];
  /** `rpmspec -P` text of this spec. */
  parsed: string;
}

export type SpecOutcome = { ok: true; query: SpecQuery } | { ok: false; component: string; message: string };

export const SOURCE_QF =
  '@@SRPM\\t%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\n' +
  '[@X\\t%{EXCLUSIVEARCH}\\n][@Y\\t%{EXCLUDEARCH}\\n]' +
  '[@B\\t%{REQUIRENAME}\\t%{REQUIREFLAGS:depflags}\\t%{REQUIREVERSION}\\n]';
export const BINARY_QF =
  '@@PKG\\t%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\n' +
  '[@P\\t%{PROVIDENAME}\\t%{PROVIDEFLAGS:depflags}\\t%{PROVIDEVERSION}\\n]' +
  '[@R\\t%{REQUIRENAME}\\t%{REQUIREFLAGS:depflags}\\t%{REQUIREVERSION}\\n]';

/** A dependency from the three columns rpm's query format printed. */
export function dependencyFrom(name: string, flags: string, version: string): Dependency {
  const flag = flags.trim() === '' ? null : (flags.trim() as DepFlag);
  const evr = flag === null || version === '' ? null : version;
  const rich = name.startsWith('(');
  return { raw: evr === null ? name : `${name} ${flag} ${evr}`, name: rich ? null : name, flag: rich ? null : flag, evr: rich ? null : evr };
}

const epochOf = (text: string): number | null => (text === '(none)' || text === '' ? null : Number(text));
// rpmlib() requirements are rpm's own feature flags, satisfied by rpm itself.
const isRpmlib = (dep: Dependency): boolean => dep.raw.startsWith('rpmlib(');

function parseSourceOutput(stdout: string): Array<SpecQuery['source']> {
  const out: Array<SpecQuery['source']> = [];
  for (const line of stdout.split('\n')) {
    const cols = line.split('\t');
    const current = out[out.length - 1];
    if (cols[0] === '@@SRPM') {
      out.push({ name: cols[1]!, epoch: epochOf(cols[2]!), version: cols[3]!, release: cols[4]!, exclusiveArch: [], excludeArch: [], buildRequires: [] });
    } else if (current && cols[0] === '@X') current.exclusiveArch.push(cols[1]!);
    else if (current && cols[0] === '@Y') current.excludeArch.push(cols[1]!);
    else if (current && cols[0] === '@B') {
      const dep = dependencyFrom(cols[1]!, cols[2] ?? '', cols[3] ?? '');
      if (!isRpmlib(dep)) current.buildRequires.push(dep);
    }
  }
  return out;
}

function parseBinaryOutput(stdout: string): QueriedPackage[] {
  const out: QueriedPackage[] = [];
  for (const line of stdout.split('\n')) {
    const cols = line.split('\t');
    const current = out[out.length - 1];
    if (cols[0] === '@@PKG') {
      out.push({ name: cols[1]!, epoch: epochOf(cols[2]!), version: cols[3]!, release: cols[4]!, arch: cols[5]!, provides: [], requires: [] });
    } else if (current && (cols[0] === '@P' || cols[0] === '@R')) {
      const dep = dependencyFrom(cols[1]!, cols[2] ?? '', cols[3] ?? '');
      if (cols[0] === '@P') current.provides.push(dep);
      else if (!isRpmlib(dep)) current.requires.push(dep);
    }
  }
  return out;
}

/**
 * Binary headers carry no trace of their spec, so the batch's packages are cut
 * where the next spec's main package (named by its source header) begins. A
 * subpackage named like the next spec's main package would make that ambiguous:
 * then null, and the caller splits the batch further.
 */
export function splitPackages(packages: QueriedPackage[], mainNames: string[]): QueriedPackage[][] | null {
  const groups: QueriedPackage[][] = [];
  let index = -1;
  for (const pkg of packages) {
    if (index + 1 < mainNames.length && pkg.name === mainNames[index + 1]) {
      index++;
      groups.push([]);
    }
    if (index < 0) return null;
    groups[index]!.push(pkg);
  }
  if (groups.length !== mainNames.length) return null;
  for (const group of groups) {
    if (new Set(group.map((p) => p.name)).size !== group.length) return null;
  }
  return groups;
}

export interface RunnerOptions {
  /** A scratch folder for this run (spec copies are written below it). */
  workDir: string;
  signal?: AbortSignal;
}

let batchCounter = 0;

async function writeSpecs(inputs: SpecInput[], workDir: string): Promise<{ query: string[]; parse: string[] }> {
  const dir = join(workDir, `batch-${++batchCounter}`);
  const query: string[] = [];
  const parse: string[] = [];
  for (const [i, input] of inputs.entries()) {
    const specDir = join(dir, String(i), input.component);
    await mkdir(specDir, { recursive: true });
    const queryPath = join(specDir, input.specFile);
    const parsePath = join(specDir, `.parse-${input.specFile}`);
    await writeFile(queryPath, input.specText);
    await writeFile(parsePath, specForParse(input.specText));
    query.push(queryPath);
    parse.push(parsePath);
  }
  return { query, parse };
}

/**
 * %{_sourcedir} per spec within one rpmspec process: a Lua table from the spec
 * being parsed (%{__file_name}) to its component's folder. Without one, rpm's
 * default (%{_topdir}/SOURCES).
 */
export function sourceDirDefine(paths: Array<[specPath: string, sourceDir: string]>): string[] {
  if (paths.length === 0) return [];
  const long = (text: string): string => `[==[${text}]==]`;
  const entries = paths.map(([spec, dir]) => `[ ${long(spec)} ] = ${long(dir)}`).join(',');
  return ['--define', `_sourcedir %{lua: local m = {${entries}}; print(m[rpm.expand("%{__file_name}")] or rpm.expand("%{_topdir}/SOURCES"))}`];
}

async function rpmspec(context: MacroContext, args: string[], signal: AbortSignal | undefined) {
  return run('rpmspec', [...context.rpmArgs, ...args], {
    env: context.env,
    allowFailure: true,
    ...(signal ? { signal } : {}),
  });
}

/** rpm's messages about one spec, with the scratch path replaced by the component's spec name. */
function cleanMessage(stderr: string, path: string, input: SpecInput): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.split(path).join(input.specFile).trimEnd())
    .filter((line) => line !== '');
  return lines.join('\n') || 'rpmspec failed without a message';
}

/** Queries a batch; on any failure or ambiguity, queries its halves, down to single specs. */
export async function querySpecs(context: MacroContext, inputs: SpecInput[], options: RunnerOptions): Promise<SpecOutcome[]> {
  if (inputs.length === 0) return [];
  const paths = await writeSpecs(inputs, options.workDir);
  const sources = sourceDirDefine(
    inputs.flatMap((input, i): Array<[string, string]> => (input.sourceDir ? [[paths.query[i]!, input.sourceDir], [paths.parse[i]!, input.sourceDir]] : [])),
  );
  const [source, binary, parsed] = await Promise.all([
    rpmspec(context, [...sources, '-q', '--srpm', '--qf', SOURCE_QF, ...paths.query], options.signal),
    rpmspec(context, [...sources, '-q', '--qf', BINARY_QF, ...paths.query], options.signal),
    rpmspec(context, [...sources, '-P', ...paths.parse], options.signal),
  ]);
  const failed = source.exitCode !== 0 || binary.exitCode !== 0 || parsed.exitCode !== 0;
  const headers = parseSourceOutput(source.stdout);
  const groups = failed || headers.length !== inputs.length ? null : splitPackages(parseBinaryOutput(binary.stdout), headers.map((h) => h.name));
  const texts = failed ? null : splitParsedOutput(parsed.stdout, inputs.length);
  if (groups && texts) {
    return inputs.map((input, i) => ({
      ok: true,
      query: { component: input.component, source: headers[i]!, packages: groups[i]!, parsed: texts[i]! },
    }));
  }
  if (inputs.length === 1) {
    const input = inputs[0]!;
    const stderr = [source.stderr, binary.stderr, parsed.stderr].find((text) => text.trim() !== '') ?? '';
    return [{ ok: false, component: input.component, message: cleanMessage(stderr, paths.query[0]!, input) }];
  }
  // Halve and retry: the good halves finish in one process each, so a few bad
  // specs among thousands cost a few extra runs, not one run per spec.
  const middle = Math.ceil(inputs.length / 2);
  return [...(await querySpecs(context, inputs.slice(0, middle), options)), ...(await querySpecs(context, inputs.slice(middle), options))];
}
