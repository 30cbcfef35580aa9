/**
 * `buildDistro`: from the distro model to `out/repo/<arch>/`. Read top to
 * bottom it is the whole build stage: render and evaluate the components,
 * build the graph per arch, plan the jobs, pin every source (all problems
 * reported before anything builds), then run the jobs in dependency order —
 * each one a cache hit or a sandboxed rpmbuild whose result goes into the
 * cache — and publish what succeeded as repositories.
 */
import { availableParallelism } from 'node:os';
import { mkdir, mkdtemp, rename, rm, copyFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Arch, DistroModel } from '../config/model.js';
import type { RenderedComponent } from '../overlays/model.js';
import { renderComponents } from '../overlays/render.js';
import { prepareMacroContext, type MacroContext } from '../spec/macro-context.js';
import { evaluateSpecs } from '../spec/evaluate.js';
import type { SpecFacts } from '../spec/model.js';
import { buildGraph } from '../graph/build-graph.js';
import type { BuildGraph } from '../graph/model.js';
import { StrataError, StrataErrors, interrupted } from '../util/errors.js';
import { hashRecord, sha256Hex } from '../util/hash.js';
import type { Logger } from '../util/log.js';
import { tail } from '../util/process.js';
import { leaseCache } from './cache-archive.js';
import { BuildCache, type CacheEntry } from './cache.js';
import { configTree, makeBundle, type LocalFile } from './bundle.js';
import { DigestCache } from './digest-cache.js';
import { resolveBuildRoot, type ResolvedBuildRoot } from './build-root.js';
import { createExecutor } from './executors/index.js';
import { workRoot } from './executors/local.js';
import type { JobBundle } from './executor.js';
import { explainChange, readDurations, readInputRecord, saveDurations, writeInputRecord, type InputRecord } from './history.js';
import { acquireLock, removeStaleScratch, scratchName } from './lock.js';
import { refuseUnbuildable } from './preflight.js';
import { writeRpmProvenance } from '../audit/provenance.js';
import { planJobs, type PlannedJob, type SkippedComponent } from './plan.js';
import { BuildProgress, type JobOutcome } from './progress.js';
import { publishRepo } from './repo.js';
import { runSchedule, type TaskStatus } from './scheduler.js';
import { resolveSources, storeBlobs } from './sources.js';

export interface BuildOptions {
  arches: Arch[];
  /** Build these components and what they need (default: all). */
  components?: string[];
  /** Parallel jobs (default: [build] jobs, else the number of cores). */
  jobs?: number;
  keepGoing?: boolean;
  /** Say for each job why it is (not) a cache hit. */
  explain?: boolean;
  /** Decide hits and misses (and why) without building or publishing anything. */
  dryRun?: boolean;
  /** Executor backend (default: [build] sandbox). */
  executor?: string;
  log: Logger;
  signal?: AbortSignal;
}

export interface JobSummary {
  job: string;
  component: string;
  /** The arch the job built for, or 'noarch'. */
  arch: Arch | 'noarch';
  status: JobOutcome;
  cacheHit: boolean;
  seconds: number;
  key?: string;
  artifacts: Array<{ file: string; sha256: string; size: number }>;
  /** The job log, relative to the project. */
  log?: string;
  reason?: string;
  blockedBy?: string;
  /** With --explain: why the job was (not) a hit. */
  explain?: string[];
  logTail?: string[];
}

export interface BuildSummary {
  arches: Arch[];
  executor: string;
  jobs: JobSummary[];
  skipped: SkippedComponent[];
  /** Repository folders, absolute. */
  repos: Partial<Record<Arch, string>>;
  counts: Record<JobOutcome, number> & { total: number };
  seconds: number;
}

/** Failed jobs as errors, with the summary of everything else. */
export class BuildFailure extends StrataErrors {
  constructor(
    errors: StrataError[],
    readonly summary: BuildSummary,
  ) {
    super(errors);
    this.name = 'BuildFailure';
  }
}

export const HOST_ARCH: Arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';

export function outDir(model: DistroModel): string {
  return resolve(model.root, model.build.outDir);
}

export function cacheDir(model: DistroModel): string {
  return resolve(model.root, model.build.cacheDir);
}

/** The repository of one arch: `<outDir>/repo/<arch>`, absolute. */
export function repoDir(model: DistroModel, arch: Arch): string {
  return join(outDir(model), 'repo', arch);
}

/** The log of a job: `<outDir>/logs/<arch|noarch>/<component>.log`. */
export function jobLogPath(model: DistroModel, job: { component: string; arch: Arch; noarch: boolean }): string {
  return join(outDir(model), 'logs', job.noarch ? 'noarch' : job.arch, `${job.component}.log`);
}

/** Where noarch components are built: natively when the host arch is a distro arch. */
export function noarchBuildArch(model: DistroModel, arches: Arch[]): Arch {
  return model.distro.arches.includes(HOST_ARCH) ? HOST_ARCH : (arches[0] ?? model.distro.arches[0]!);
}

interface ArchStage {
  context: MacroContext;
  facts: SpecFacts[];
  graph: BuildGraph;
  rpmConfig: LocalFile[];
}

interface JobState {
  status: JobOutcome;
  /** A job log exists in out/logs (not for jobs that failed before their sandbox started). */
  logged: boolean;
  entry?: CacheEntry;
  seconds: number;
  reason?: string;
  explain?: string[];
  logTail?: string[];
}

export async function buildDistro(model: DistroModel, options: BuildOptions): Promise<BuildSummary> {
  const started = performance.now();
  const { log, signal } = options;
  const arches = [...new Set(options.arches)].sort();
  const cache = cacheDir(model);
  await mkdir(cache, { recursive: true });
  const lease = await leaseCache(cache, signal);
  try {
    await removeStaleScratch(workRoot(cache), '');
    await removeStaleScratch(join(cache, 'jobs'), '.out-');
    for (const dir of ['noarch', ...model.distro.arches]) await removeStaleScratch(join(outDir(model), 'logs', dir), '.');
    const digests = await DigestCache.open(cache);

    // Stage inputs: rendered components, facts and graph for every arch a job is built in.
    const rendered = new Map((await renderComponents(model)).map((r) => [r.name, r]));
    const noarchArch = noarchBuildArch(model, arches);
    const stages = new Map<Arch, ArchStage>();
    for (const arch of [...new Set([...arches, noarchArch])].sort()) {
      const context = await prepareMacroContext(model, arch, cache);
      const { facts } = await evaluateSpecs(model, [...rendered.values()], arch, { log, signal });
      const graph = buildGraph(model, facts, arch);
      stages.set(arch, { context, facts, graph, rpmConfig: await configTree(context.configDir, digests) });
    }
    const plan = planJobs({
      model,
      arches,
      components: options.components ?? [],
      facts: new Map([...stages].map(([arch, stage]) => [arch, stage.facts])),
      graphs: new Map([...stages].map(([arch, stage]) => [arch, stage.graph])),
      noarchArch,
    });

    refuseUnbuildable(plan.jobs, new Map([...stages].map(([arch, stage]) => [arch, stage.graph])), { keepGoing: options.keepGoing ?? false });

    // Every source of every planned component, found and checked before anything builds.
    const sources = new Map<string, LocalFile[]>();
    const sourceErrors: StrataError[] = [];
    const pendingBlobs = new Map<string, Buffer>();
    for (const component of [...new Set(plan.jobs.map((job) => job.component))].sort()) {
      const facts = [...stages.values()].flatMap((stage) => stage.facts.filter((f) => f.component === component));
      try {
        sources.set(component, await resolveSources(model.components[component]!, rendered.get(component)!, facts, { model, cacheDir: cache, digests, signal, pendingBlobs }));
      } catch (error) {
        if (error instanceof StrataErrors) sourceErrors.push(...error.errors);
        else if (error instanceof StrataError) sourceErrors.push(error);
        else throw error;
      }
    }
    if (sourceErrors.length > 0) throw new StrataErrors(sourceErrors);
    await storeBlobs(pendingBlobs);

    const buildRoot = await resolveBuildRoot(model.build.buildRoot, digests);
    await digests.save();
    const executorName = options.executor ?? model.build.sandbox;
    const executor = createExecutor(executorName, { cacheDir: cache, log });
    const concurrency = Math.max(1, options.jobs ?? (model.build.jobs || availableParallelism()));
    const durations = await readDurations(cache);
    const known = Object.values(durations);
    const fallbackWeight = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1;
    const weights = new Map(plan.jobs.map((job) => [job.id, durations[job.id] ?? fallbackWeight]));
    const jobsById = new Map(plan.jobs.map((job) => [job.id, job]));
    const states = new Map<string, JobState>();
    const measured: Record<string, number> = {};
    const buildCache = new BuildCache(cache);
    const progress = new BuildProgress(log, plan.jobs.length, weights, concurrency);

    const runJob = async (job: PlannedJob): Promise<'succeeded' | 'failed'> => {
      // In a dry run, a job after a miss cannot know its key: its dependency's new bytes decide.
      const waitsFor = job.deps.filter((dep) => states.get(dep)?.status === 'planned');
      if (waitsFor.length > 0) {
        states.set(job.id, { status: 'planned', logged: false, seconds: 0, explain: [`builds after ${waitsFor.join(', ')}; a hit then if their new RPMs are byte-identical`] });
        return 'succeeded';
      }
      const stage = stages.get(job.arch)!;
      const { bundle, blobs } = makeBundle({
        component: job.component,
        arch: job.arch,
        noarch: job.noarch,
        specFile: rendered.get(job.component)!.specFile,
        sources: sources.get(job.component)!,
        dependencyRpms: dependencyRpms(job, states, buildCache),
        rpmConfig: stage.rpmConfig,
        configDir: stage.context.configDir,
        rpmArgs: stage.context.rpmArgs,
        // The cross compilers (CC, CXX, …) are the build's environment, not rpm's.
        env: { ...stage.context.env, ...stage.context.buildEnv },
        buildRoot: buildRoot.identity,
        buildRootBlobs: buildRoot.blobs,
        sourceDateEpoch: model.distro.sourceDateEpoch,
        check: job.arch === HOST_ARCH || model.build.crossCheck,
        timeoutSeconds: model.build.timeoutSeconds,
      });
      const record = inputRecord(model, rendered.get(job.component)!, bundle, stage.context, buildRoot);
      const previous = await readInputRecord(cache, job.id);
      const lookup = await buildCache.lookup(bundle.key);
      const logPath = jobLogPath(model, job);
      // The provenance statement sits beside each RPM in the cache entry; the repository gets a copy.
      const attest = (entry: CacheEntry): Promise<string[]> =>
        writeRpmProvenance({ model, bundle, record, artifacts: entry.artifacts.map((a) => ({ path: buildCache.artifactPath(entry, a), sha256: a.sha256 })) });
      if (lookup.hit) {
        if (options.dryRun) {
          states.set(job.id, { status: 'cached', logged: false, entry: lookup.entry, seconds: 0, explain: ['cache hit: no input changed'] });
          return 'succeeded';
        }
        await attest(lookup.entry);
        await publishLog(buildCache.logPath(lookup.entry), logPath);
        await writeInputRecord(cache, record);
        states.set(job.id, { status: 'cached', logged: true, entry: lookup.entry, seconds: 0, explain: ['cache hit: no input changed'] });
        return 'succeeded';
      }
      const explain =
        lookup.reason === 'damaged'
          ? [`the cache entry was damaged (${lookup.detail}); rebuilding`]
          : previous?.key === bundle.key
            ? ['same inputs as the last build, but its result is no longer in the cache']
            : explainChange(previous, record);
      if (options.dryRun) {
        states.set(job.id, { status: 'planned', logged: false, seconds: 0, explain });
        return 'succeeded';
      }
      progress.started(job.id);
      const state = await buildJob(job, bundle, blobs, logPath);
      states.set(job.id, { ...state, explain });
      if (state.status === 'built') {
        await attest(state.entry!);
        measured[job.id] = state.seconds;
        await writeInputRecord(cache, record);
        return 'succeeded';
      }
      return 'failed';
    };

    // The backend is tried once, before the first job that needs it: a missing
    // tool is one clear error, not a failure per job. A no-op build never pays for it.
    let backendReady: Promise<void> | undefined;
    const checkBackend = (): Promise<void> =>
      (backendReady ??= executor.probe(signal).then((probe) => {
        if (!probe.ok) {
          throw new StrataError(`the ${executorName} sandbox backend does not work on this host: ${probe.detail}`, {
            kind: 'build',
            hint: 'run strata doctor; choose another backend with --executor or [build] sandbox',
          });
        }
      }));

    const buildJob = async (job: PlannedJob, bundle: JobBundle, blobs: Map<string, string>, logPath: string): Promise<JobState> => {
      await checkBackend();
      await mkdir(join(cache, 'jobs'), { recursive: true });
      const outputDir = await mkdtemp(join(cache, 'jobs', scratchName('.out-', '')));
      const logDir = join(outDir(model), 'logs', job.noarch ? 'noarch' : job.arch);
      await mkdir(logDir, { recursive: true });
      const tmpLog = join(logDir, scratchName('.', `${job.component}.log`));
      try {
        const result = await executor.run({ bundle, blobs, outputDir, logFile: tmpLog, signal });
        if (result.status === 'succeeded') {
          const entry = await buildCache.store(bundle.key, job.id, result.seconds, outputDir, result.artifacts, tmpLog);
          await rename(tmpLog, logPath);
          return { status: 'built', logged: true, entry, seconds: result.seconds };
        }
        // A job the farm gave up on before any worker built it has no log: its reason is all there is.
        const logged = await rename(tmpLog, logPath).then(
          () => true,
          (error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') throw error;
            return false;
          },
        );
        return { status: 'failed', logged, seconds: result.seconds, reason: result.reason, logTail: result.logTail };
      } finally {
        await rm(outputDir, { recursive: true, force: true });
        await rm(tmpLog, { force: true });
      }
    };

    let statuses: Map<string, TaskStatus>;
    try {
      statuses = await runSchedule(
        plan.jobs.map((job) => ({ id: job.id, deps: job.deps, weight: weights.get(job.id)! })),
        (id) => runJob(jobsById.get(id)!),
        {
          concurrency,
          keepGoing: options.keepGoing ?? false,
          signal,
          onFinish: (id, status) => {
            const state = states.get(id);
            if (status.state === 'failed' && !state) {
              const error = status.error;
              if (error instanceof StrataError && error.kind === 'interrupted') return;
              states.set(id, { status: 'failed', logged: false, seconds: 0, reason: error instanceof Error ? error.message : String(error) });
            }
            const final = states.get(id);
            if (final) progress.finished(id, final.status, final.seconds, final.status === 'failed' ? final.reason : undefined);
            else if (status.state === 'blocked') progress.finished(id, 'blocked', 0, `needs ${status.by}`);
          },
        },
      );
    } finally {
      progress.stop();
      await saveDurations(cache, measured);
      await executor.close();
    }
    if (signal?.aborted) throw interrupted();
    if (options.dryRun) return summarize(model, plan.jobs, plan.skipped, statuses, states, arches, executorName, {}, options.explain ?? false, started);

    // Publish what succeeded, one repository per requested arch.
    const repos: Partial<Record<Arch, string>> = {};
    const outLock = await acquireLock(await ensureDir(outDir(model), '.strata-build.lock'), 'the output folder', log, signal);
    try {
      for (const arch of arches) {
        const packages = plan.jobs
          .filter((job) => job.publishTo.includes(arch))
          .flatMap((job) => {
            const entry = states.get(job.id)?.entry;
            return entry ? entry.artifacts.map((artifact) => ({ ...artifact, component: job.component, path: buildCache.artifactPath(entry, artifact) })) : [];
          });
        // A build of some components, or one where some failed, keeps the last
        // good RPMs of the components it did not (successfully) build.
        const partial = (options.components ?? []).length > 0 || plan.jobs.some((job) => states.get(job.id)?.entry === undefined);
        await publishRepo(repoDir(model, arch), packages, model.distro.sourceDateEpoch, partial, signal);
        repos[arch] = repoDir(model, arch);
      }
    } finally {
      await outLock.release();
    }

    const summary = summarize(model, plan.jobs, plan.skipped, statuses, states, arches, executorName, repos, options.explain ?? false, started);
    const failures = summary.jobs.filter((job) => job.status === 'failed');
    if (failures.length > 0) {
      const blocked = summary.jobs.filter((job) => job.status === 'blocked');
      throw new BuildFailure(
        failures.map(
          (job) =>
            new StrataError(job.reason ?? 'build failed', {
              kind: 'build',
              component: job.component,
              job: job.job,
              details: job.logTail ?? [],
              hint: [
                job.log ? `full log: ${job.log}` : '',
                blocked.some((b) => b.blockedBy === job.job) ? `not built because of it: ${blocked.filter((b) => b.blockedBy === job.job).map((b) => b.job).join(', ')}` : '',
              ]
                .filter(Boolean)
                .join('; '),
            }),
        ),
        summary,
      );
    }
    return summary;
  } finally {
    await lease.release();
  }
}

async function ensureDir(dir: string, name: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return join(dir, name);
}

/** A cached log becomes the job's log in out/logs (written atomically). */
async function publishLog(source: string, target: string): Promise<void> {
  await mkdir(join(target, '..'), { recursive: true });
  const tmp = join(target, '..', scratchName('.', 'log'));
  try {
    await copyFile(source, tmp);
    await rename(tmp, target);
  } catch {
    await rm(tmp, { force: true });
  }
}

/** The RPMs of the subpackages a job installs, from its dependencies' cache entries. */
function dependencyRpms(job: PlannedJob, states: ReadonlyMap<string, JobState>, cache: BuildCache): LocalFile[] {
  const files: LocalFile[] = [];
  for (const dep of job.deps) {
    const entry = states.get(dep)?.entry;
    if (!entry) throw new StrataError(`dependency ${dep} of ${job.id} has no result`, { kind: 'build', job: job.id });
    const wanted = new Set(job.needs[dep] ?? []);
    for (const artifact of entry.artifacts) {
      if (!wanted.has(artifact.name)) continue;
      files.push({ file: { path: artifact.file, sha256: artifact.sha256, size: artifact.size, mode: 0o644 }, localPath: cache.artifactPath(entry, artifact) });
    }
  }
  return files;
}

function inputRecord(model: DistroModel, rendered: RenderedComponent, bundle: JobBundle, context: MacroContext, root: ResolvedBuildRoot): InputRecord {
  const component = model.components[bundle.component]!;
  return {
    job: bundle.job,
    key: bundle.key,
    recipe: bundle.recipe,
    buildRoot: root.identity.id,
    macros: hashRecord({ context: context.hash, rpmConfig: bundle.rpmConfig.map((f) => [f.path, f.sha256]), rpmArgs: bundle.rpmArgs, env: bundle.env }),
    spec: { file: rendered.specFile, base: sha256Hex(rendered.baseSpecText), rendered: sha256Hex(rendered.specText) },
    overlays: component.overlays.map((overlay) => ({
      index: overlay.index,
      type: overlay.type,
      at: `${relative(model.root, overlay.location.file)}:${overlay.location.line}`,
      description: overlay.description,
      sha256: hashRecord({ type: overlay.type, fields: overlay.fields }),
    })),
    sources: Object.fromEntries(bundle.sources.filter((f) => f.path !== bundle.specFile).map((f) => [f.path, f.sha256])),
    dependencies: Object.fromEntries(bundle.dependencyRpms.map((f) => [f.path, f.sha256])),
    settings: hashRecord({ arch: bundle.arch, noarch: bundle.noarch, check: bundle.check, epoch: bundle.sourceDateEpoch }),
  };
}

function summarize(
  model: DistroModel,
  jobs: PlannedJob[],
  skipped: SkippedComponent[],
  statuses: ReadonlyMap<string, TaskStatus>,
  states: ReadonlyMap<string, JobState>,
  arches: Arch[],
  executor: string,
  repos: Partial<Record<Arch, string>>,
  explain: boolean,
  started: number,
): BuildSummary {
  const counts: BuildSummary['counts'] = { total: jobs.length, built: 0, cached: 0, planned: 0, failed: 0, blocked: 0, skipped: 0 };
  const summaries = jobs.map((job): JobSummary => {
    const status = statuses.get(job.id);
    const state = states.get(job.id);
    const outcome: JobOutcome = state?.status ?? (status?.state === 'blocked' ? 'blocked' : status?.state === 'failed' ? 'failed' : 'skipped');
    counts[outcome]++;
    const logFile = jobLogPath(model, job);
    return {
      job: job.id,
      component: job.component,
      arch: job.noarch ? 'noarch' : job.arch,
      status: outcome,
      cacheHit: outcome === 'cached',
      seconds: state?.seconds ?? 0,
      ...(state?.entry ? { key: state.entry.key } : {}),
      artifacts: state?.entry?.artifacts.map(({ file, sha256, size }) => ({ file, sha256, size })) ?? [],
      ...(state?.logged && outcome !== 'cached' ? { log: relative(model.root, logFile) } : {}),
      ...(state?.reason ? { reason: state.reason } : {}),
      ...(status?.state === 'blocked' ? { blockedBy: status.by } : {}),
      ...(explain && state?.explain ? { explain: state.explain } : {}),
      ...(state?.logTail ? { logTail: tail(state.logTail.join('\n'), 25) } : {}),
    };
  });
  return { arches, executor, jobs: summaries, skipped, repos, counts, seconds: Math.round((performance.now() - started) / 10) / 100 };
}
