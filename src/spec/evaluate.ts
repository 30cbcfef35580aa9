/**
 * Spec evaluation: rendered components → SpecFacts for one arch, through
 * rpmspec in the distro's macro context. Facts are cached by the hash of
 * (rendered spec, macro context, arch); only specs without cached facts reach
 * rpmspec, in batches, several rpmspec processes at a time.
 */
import { availableParallelism } from 'node:os';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import type { Arch, DistroModel } from '../config/model.js';
import type { RenderedComponent } from '../overlays/model.js';
import type { SpecFacts, SubpackageFacts } from './model.js';
import type { Logger } from '../util/log.js';
import { StrataError, StrataErrors } from '../util/errors.js';
import { hashRecord } from '../util/hash.js';
import { prepareMacroContext, type MacroContext } from './macro-context.js';
import { FactsCache } from './facts-cache.js';
import { querySpecs, type SpecInput, type SpecQuery } from './rpmspec-runner.js';
import { readParsedSpec } from './parsed-spec.js';
import { predictProvides } from './predict-provides.js';
import { displayPath } from '../config/config-file.js';

function specShown(path: string | undefined): string {
  return path === undefined ? 'the spec' : displayPath(path, process.cwd());
}

export interface EvaluateOptions {
  log: Logger;
  signal?: AbortSignal;
  /** Report specs rpmspec cannot evaluate in `failures` instead of throwing. */
  allowFailures?: boolean;
  /** Specs per rpmspec process (default: chosen from the number of specs and jobs). */
  batchSize?: number;
  /** rpmspec processes at a time (default: [build] jobs, 0 = one per core). */
  jobs?: number;
  /** Evaluate even when cached facts exist (and refresh the cache). */
  noCache?: boolean;
}

export interface EvaluationFailure {
  component: string;
  /** rpmspec's own message. */
  message: string;
}

export interface EvaluateResult {
  facts: SpecFacts[];
  stats: { specs: number; cacheHits: number; evaluated: number; seconds: number; batches: number };
  failures: EvaluationFailure[];
  context: MacroContext;
}

/** Bumped whenever the shape or meaning of cached facts changes. */
const FACTS_SCHEMA = 3;

/** The cache folder of a project (cache-dir may be relative to the project root or absolute). */
export function cacheDirOf(model: DistroModel): string {
  return resolve(model.root, model.build.cacheDir);
}

/**
 * The cache key of a component's facts: its rendered spec and, because a spec
 * may read its sources while it is parsed, the rendered component's fingerprint
 * (spec, every file's hash, the overlays); the macro context; the arch.
 */
export function factsKey(component: RenderedComponent, context: MacroContext): string {
  return hashRecord({
    schema: FACTS_SCHEMA,
    component: component.name,
    specFile: component.specFile,
    spec: component.specText,
    rendered: component.fingerprint,
    context: context.hash,
    arch: context.arch,
  });
}

function formatEvr(epoch: number | null, version: string, release: string): string {
  return `${epoch === null ? '' : `${epoch}:`}${version}-${release}`;
}

/** Turns what rpmspec said about one spec into its facts. */
export function factsFromQuery(query: SpecQuery, arch: Arch, key: string): SpecFacts {
  const main = query.packages[0];
  const parsed = readParsedSpec(query.parsed, main?.name ?? query.source.name);
  // Only packages with a %files section are produced by a build.
  const subpackages: SubpackageFacts[] = query.packages
    .filter((pkg) => parsed.files.has(pkg.name))
    .map((pkg) => {
      const entries = parsed.files.get(pkg.name)!;
      const evr = formatEvr(pkg.epoch, pkg.version, pkg.release);
      return {
        name: pkg.name,
        arch: pkg.arch,
        provides: pkg.provides,
        requires: pkg.requires,
        files: entries.map((entry) => (entry.dir && entry.path !== '/' ? `${entry.path}/` : entry.path)),
        predictedProvides: predictProvides({ name: pkg.name, evr, version: pkg.version, arch: pkg.arch, files: entries }),
        ...(parsed.fileLists.has(pkg.name) ? { fileLists: parsed.fileLists.get(pkg.name)! } : {}),
      };
    });
  const { source } = query;
  const buildable =
    (source.exclusiveArch.length === 0 || source.exclusiveArch.includes(arch)) && !source.excludeArch.includes(arch);
  return {
    component: query.component,
    arch,
    name: source.name,
    epoch: source.epoch,
    version: source.version,
    release: source.release,
    evr: formatEvr(source.epoch, source.version, source.release),
    subpackages,
    buildRequires: source.buildRequires,
    exclusiveArch: source.exclusiveArch,
    excludeArch: source.excludeArch,
    buildable,
    noarch: subpackages.length > 0 && subpackages.every((pkg) => pkg.arch === 'noarch'),
    sources: parsed.sources,
    patches: parsed.patches,
    key,
  };
}

/**
 * Batches small enough that every rpmspec process gets work, large enough to
 * amortise its start-up; beyond ~100 specs per process the gain flattens out
 * (bench/graph sweep: docs/benchmarks/graph.md).
 */
export function chooseBatchSize(specs: number, jobs: number): number {
  return Math.max(1, Math.min(96, Math.ceil(specs / (jobs * 4))));
}

/** A progress reporter: redrawn often on a TTY; in CI a plain line every few seconds, and none for a quick run. */
function progressReporter(log: Logger, total: number, arch: Arch): (done: number, hits: number) => void {
  const interval = log.interactive ? 100 : 5000;
  let last = log.interactive ? 0 : Date.now();
  return (done, hits) => {
    const now = Date.now();
    if (now - last < interval) return;
    last = now;
    log.progress(`evaluating specs for ${arch}: ${done}/${total} (${hits} cached)`);
  };
}

export async function evaluateSpecs(model: DistroModel, rendered: RenderedComponent[], arch: Arch, options: EvaluateOptions): Promise<EvaluateResult> {
  const started = performance.now();
  const cacheDir = cacheDirOf(model);
  const context = await prepareMacroContext(model, arch, cacheDir);
  const cache = new FactsCache(join(cacheDir, 'spec-facts', arch));
  const components = [...rendered].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const keys = new Map(components.map((c) => [c.name, factsKey(c, context)]));
  const facts = new Map<string, SpecFacts>();
  const report = progressReporter(options.log, components.length, arch);

  const readLimit = pLimit(64);
  const orderedKeys = components.map((c) => keys.get(c.name)!);
  const wholeSet = options.noCache ? undefined : await cache.getSet(orderedKeys);
  if (wholeSet) for (const f of wholeSet) facts.set(f.component, f);
  else if (!options.noCache) {
    await Promise.all(
      components.map((c) =>
        readLimit(async () => {
          const cached = await cache.get(keys.get(c.name)!);
          if (cached) facts.set(c.name, cached);
        }),
      ),
    );
  }
  const cacheHits = facts.size;
  const todo = components.filter((c) => !facts.has(c.name));
  const jobs = options.jobs ?? (model.build.jobs > 0 ? model.build.jobs : availableParallelism());
  const batchSize = options.batchSize ?? chooseBatchSize(todo.length, jobs);
  const batches: SpecInput[][] = [];
  for (let i = 0; i < todo.length; i += batchSize) {
    batches.push(
      todo.slice(i, i + batchSize).map((c) => {
        const dir = model.components[c.name]?.dir;
        return { component: c.name, specFile: c.specFile, specText: c.specText, ...(dir ? { sourceDir: dir } : {}) };
      }),
    );
  }
  const failures: EvaluationFailure[] = [];
  const workDir = join(cacheDir, 'tmp', `spec-eval-${process.pid}-${randomBytes(4).toString('hex')}`);
  const limit = pLimit(jobs);
  report(cacheHits, cacheHits);
  try {
    await Promise.all(
      batches.map((batch) =>
        limit(async () => {
          if (options.signal?.aborted) throw new StrataError('interrupted', { kind: 'interrupted' });
          const outcomes = await querySpecs(context, batch, { workDir, ...(options.signal ? { signal: options.signal } : {}) });
          for (const outcome of outcomes) {
            if (!outcome.ok) {
              failures.push({ component: outcome.component, message: outcome.message });
              continue;
            }
            const key = keys.get(outcome.query.component)!;
            const result = factsFromQuery(outcome.query, arch, key);
            facts.set(result.component, result);
            await cache.put(result);
          }
          report(facts.size + failures.length, cacheHits);
        }),
      ),
    );
  } finally {
    options.log.progressDone();
    await rm(workDir, { recursive: true, force: true });
  }
  failures.sort((a, b) => (a.component < b.component ? -1 : a.component > b.component ? 1 : 0));
  if (!wholeSet && failures.length === 0) await cache.putSet(orderedKeys, components.map((c) => facts.get(c.name)!));
  if (failures.length > 0 && !options.allowFailures) throw evaluationErrors(failures, model);
  const seconds = (performance.now() - started) / 1000;
  options.log.verbose(
    `spec evaluation (${arch}): ${components.length} specs, ${cacheHits} from cache, ${todo.length} evaluated in ${batches.length} batches, ${seconds.toFixed(2)} s`,
  );
  return {
    facts: components.filter((c) => facts.has(c.name)).map((c) => facts.get(c.name)!),
    stats: { specs: components.length, cacheHits, evaluated: todo.length, seconds, batches: batches.length },
    failures,
    context,
  };
}

/** One error per spec rpmspec could not evaluate, each with rpm's own message. */
export function evaluationErrors(failures: EvaluationFailure[], model: DistroModel): StrataErrors {
  return new StrataErrors(
    failures.map(
      (failure) =>
        new StrataError(`rpmspec cannot evaluate the spec of ${failure.component}`, {
          component: failure.component,
          details: failure.message.split('\n'),
          hint: `check ${specShown(model.components[failure.component]?.specPath)} as rendered (strata render), in the distro's macro context ([rpm] in toolkit.config.toml)`,
        }),
    ),
  );
}
