/**
 * `strata explain COMPONENT`: everything strata knows about one component,
 * for an auditor. Where it comes from (spec file, sources with hashes, each
 * overlay with its metadata and the diff hunks it made), its fingerprint,
 * its place in the graph (deps, rdeps, critical-path position, per arch),
 * its last build (cache key, inputs, duration, logs) and the images that
 * contain it. Every part is read from the stage that owns it; a stage that
 * cannot answer leaves a note instead of failing the whole report.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { imageDir } from '../compose/image.js';
import { MANIFEST_FILE, readManifest } from '../compose/manifest.js';
import type { Arch, Component, DistroModel } from '../config/model.js';
import { jobLogPath, noarchBuildArch } from '../build/index.js';
import { readDurations, readInputRecord, type InputRecord } from '../build/history.js';
import { jobId, planJobs, type PlannedJob } from '../build/plan.js';
import { remainingPathLengths, topologicalOrder } from '../build/scheduler.js';
import { diffComponent, type FileDiff } from '../overlays/diff/index.js';
import type { RenderedComponent } from '../overlays/model.js';
import type { SpecFacts } from '../spec/model.js';
import { formatLocation } from '../util/errors.js';
import { sha256Hex } from '../util/hash.js';
import { projectRelative } from './git.js';
import type { Analysis } from './analysis.js';
import type { ArchAnalysis } from './affected.js';
import { imageClosures } from './image-closures.js';

export interface ExplainedOverlay {
  index: number;
  type: string;
  description: string | null;
  category: string | null;
  upstreamStatus: string | null;
  definedAt: string;
  fields: Record<string, unknown>;
  /** Files it changed ('<spec>' is the spec). */
  touched: string[];
  /** The diff hunks attributed to it. */
  hunks: Array<{ file: string; oldStart: number; oldLines: number; newStart: number; newLines: number; lines: string[] }>;
}

export interface ExplainedArch {
  arch: Arch;
  evr: string | null;
  subpackages: string[];
  buildable: boolean;
  /** Components whose output its build needs, and through which BuildRequires. */
  deps: Array<{ component: string; via: string }>;
  /** Components whose build needs its output. */
  rdeps: Array<{ component: string; via: string }>;
  /** Unresolved BuildRequires. */
  unresolved: string[];
}

export interface CriticalPathPosition {
  job: string;
  /** Expected seconds of this job (from the last build, else the mean of known jobs, else 1). */
  weight: number;
  /** Longest chain of work that must finish before it can start. */
  startsAfter: number;
  /** Longest chain of work that waits on it (itself excluded). */
  blocks: number;
  /** Length of the longest chain of the whole build. */
  criticalPath: number;
  onCriticalPath: boolean;
}

export interface LastBuild {
  job: string;
  key: string;
  /** Whether the cache still holds its result. */
  inCache: boolean;
  seconds: number | null;
  log: string | null;
  artifacts: Array<{ file: string; sha256: string; size: number }>;
  inputs: InputRecord;
}

export interface ExplainReport {
  component: string;
  definedAt: string;
  origin: Component['origin'];
  spec: { path: string; sha256: string | null; renderedSha256: string | null };
  sources: Array<{ path: string; sha256: string; mode: string; url: string | null; changedBy: number[] }>;
  overlays: ExplainedOverlay[];
  fingerprint: string | null;
  arches: ExplainedArch[];
  criticalPath: CriticalPathPosition[];
  lastBuilds: LastBuild[];
  images: Array<{ image: string; arch: Arch; packages: string[]; source: 'manifest' | 'predicted' }>;
  notes: string[];
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function overlaysOf(component: Component, rendered: RenderedComponent | undefined, diffs: FileDiff[]): ExplainedOverlay[] {
  return component.overlays.map((overlay) => ({
    index: overlay.index,
    type: overlay.type,
    description: overlay.description,
    category: overlay.category,
    upstreamStatus: overlay.upstreamStatus,
    definedAt: formatLocation(overlay.location),
    fields: overlay.fields,
    touched: rendered?.effects.find((e) => e.index === overlay.index)?.touched ?? [],
    hunks: diffs.flatMap((file) =>
      file.hunks
        .filter((hunk) => hunk.overlay?.index === overlay.index)
        .map(({ oldStart, oldLines, newStart, newLines, lines }) => ({ file: file.path, oldStart, oldLines, newStart, newLines, lines })),
    ),
  }));
}

function sourcesOf(rendered: RenderedComponent, facts: SpecFacts[]): ExplainReport['sources'] {
  const urls = new Map<string, string>();
  for (const fact of facts) for (const source of fact.sources) if (/^[a-z]+:\/\//.test(source.url)) urls.set(source.name, source.url);
  return rendered.files.map((file) => ({
    path: file.path,
    sha256: file.sha256,
    mode: file.mode.toString(8).padStart(4, '0'),
    url: urls.get(file.path) ?? null,
    changedBy: rendered.effects.filter((e) => e.touched.includes(file.path)).map((e) => e.index),
  }));
}

function archPlace(name: string, arch: Arch, stage: Analysis['arches'][Arch]): ExplainedArch | null {
  if (!stage || 'error' in stage) return null;
  const fact = stage.facts.find((f) => f.component === name);
  const node = stage.graph.components.find((c) => c.name === name);
  return {
    arch,
    evr: fact?.evr ?? node?.evr ?? null,
    subpackages: node?.subpackages ?? fact?.subpackages.map((s) => s.name) ?? [],
    buildable: fact?.buildable ?? node !== undefined,
    deps: stage.graph.edges.filter((e) => e.from === name).map((e) => ({ component: e.to, via: e.via })),
    rdeps: stage.graph.edges.filter((e) => e.to === name).map((e) => ({ component: e.from, via: e.via })),
    unresolved: stage.graph.unresolved.filter((u) => u.component === name).map((u) => u.requirement),
  };
}

/** Where each of the component's jobs sits on the build's critical path, weighted by remembered durations. */
export function criticalPositions(jobs: PlannedJob[], durations: Record<string, number>, component: string): CriticalPathPosition[] {
  const known = Object.values(durations);
  const fallback = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1;
  const tasks = jobs.map((job) => ({ id: job.id, deps: job.deps, weight: durations[job.id] ?? fallback }));
  const weights = new Map(tasks.map((t) => [t.id, t.weight]));
  const remaining = remainingPathLengths(tasks);
  const upTo = new Map<string, number>();
  const byId = new Map(tasks.map((t) => [t.id, t]));
  for (const id of topologicalOrder(tasks)) {
    const before = Math.max(0, ...byId.get(id)!.deps.map((dep) => upTo.get(dep)!));
    upTo.set(id, before + weights.get(id)!);
  }
  const total = Math.max(0, ...remaining.values());
  const round = (n: number): number => Math.round(n * 100) / 100;
  return jobs
    .filter((job) => job.component === component)
    .map((job) => {
      const weight = weights.get(job.id)!;
      const startsAfter = upTo.get(job.id)! - weight;
      const blocks = remaining.get(job.id)! - weight;
      return {
        job: job.id,
        weight: round(weight),
        startsAfter: round(startsAfter),
        blocks: round(blocks),
        criticalPath: round(total),
        onCriticalPath: Math.abs(startsAfter + weight + blocks - total) < 1e-6,
      };
    });
}

const entryManifestFile = (cacheDir: string, key: string): string => join(cacheDir, 'jobs', key, 'manifest.json');

/** The last recorded build of each job, read without touching the cache (no verification, no LRU update). */
async function lastBuilds(model: DistroModel, cacheDir: string, jobs: Array<{ id: string; component: string; arch: Arch; noarch: boolean }>): Promise<LastBuild[]> {
  const builds: LastBuild[] = [];
  for (const job of jobs) {
    const record = await readInputRecord(cacheDir, job.id);
    if (!record) continue;
    const entry = await readFile(entryManifestFile(cacheDir, record.key), 'utf8')
      .then((text) => JSON.parse(text) as { seconds: number; artifacts: Array<{ file: string; sha256: string; size: number }> })
      .catch(() => null);
    const log = jobLogPath(model, job);
    builds.push({
      job: job.id,
      key: record.key,
      inCache: entry !== null,
      seconds: entry?.seconds ?? null,
      log: existsSync(log) ? projectRelative(model.root, log) : null,
      artifacts: entry?.artifacts.map(({ file, sha256, size }) => ({ file, sha256, size })) ?? [],
      inputs: record,
    });
  }
  return builds;
}

/** Images that hold the component: composed ones from their manifests, the others predicted from spec facts. */
async function imagesHolding(model: DistroModel, name: string, analysis: Analysis | null): Promise<ExplainReport['images']> {
  const found: ExplainReport['images'] = [];
  const predicted = new Map<Arch, Map<string, Map<string, string>>>();
  const closuresOn = (arch: Arch, facts: SpecFacts[]): Map<string, Map<string, string>> => {
    if (!predicted.has(arch)) predicted.set(arch, imageClosures(model, facts, arch));
    return predicted.get(arch)!;
  };
  for (const image of Object.keys(model.images).sort()) {
    for (const arch of model.distro.arches) {
      const dir = imageDir(model, image, arch);
      const composed = existsSync(join(dir, MANIFEST_FILE));
      if (composed) {
        const manifest = await readManifest(dir);
        const packages = manifest.packages.filter((p) => p.component === name).map((p) => p.nevra);
        if (packages.length > 0) found.push({ image, arch, packages, source: 'manifest' });
        continue;
      }
      const stage = analysis?.arches[arch];
      if (!stage || 'error' in stage) continue;
      const closure = closuresOn(arch, stage.facts).get(image) ?? new Map<string, string>();
      const packages = [...closure].filter(([, component]) => component === name).map(([pkg]) => pkg).sort();
      if (packages.length > 0) found.push({ image, arch, packages, source: 'predicted' });
    }
  }
  return found;
}

export async function explainComponent(model: DistroModel, component: Component, analysis: Analysis | null): Promise<ExplainReport> {
  const notes: string[] = [];
  const rendered = analysis?.rendered.find((r) => r.name === component.name);
  if (!rendered) notes.push('the component could not be rendered (see strata render); overlay effects and sources are missing');
  let diffs: FileDiff[] = [];
  if (rendered && component.overlays.length > 0) {
    try {
      diffs = (await diffComponent(model, component)).files;
    } catch (error) {
      notes.push(`overlay hunks unavailable: ${message(error)}`);
    }
  }
  const facts = Object.values(analysis?.arches ?? {}).flatMap((stage) => (stage && 'facts' in stage ? stage.facts.filter((f) => f.component === component.name) : []));
  const arches: ExplainedArch[] = [];
  for (const arch of component.arches ?? model.distro.arches) {
    const place = archPlace(component.name, arch, analysis?.arches[arch]);
    if (place) arches.push(place);
    else {
      const stage = analysis?.arches[arch];
      notes.push(`${arch}: graph unavailable${stage && 'error' in stage ? ` (${stage.error})` : ''}`);
    }
  }

  const cacheDir = resolve(model.root, model.build.cacheDir);
  let criticalPath: CriticalPathPosition[] = [];
  let jobs: Array<{ id: string; component: string; arch: Arch; noarch: boolean }>;
  const stages = new Map<Arch, ArchAnalysis>();
  for (const arch of model.distro.arches) {
    const stage = analysis?.arches[arch];
    if (stage && !('error' in stage)) stages.set(arch, stage);
  }
  if (stages.size === model.distro.arches.length) {
    try {
      const plan = planJobs({
        model,
        arches: model.distro.arches,
        components: [],
        facts: new Map([...stages].map(([arch, s]) => [arch, s.facts])),
        graphs: new Map([...stages].map(([arch, s]) => [arch, s.graph])),
        noarchArch: noarchBuildArch(model, model.distro.arches),
      });
      criticalPath = criticalPositions(plan.jobs, await readDurations(cacheDir), component.name);
      jobs = plan.jobs.filter((j) => j.component === component.name);
    } catch (error) {
      notes.push(`build plan unavailable: ${message(error)}`);
      jobs = [];
    }
  } else {
    // Without a plan, look for the records of every job id the component could have had.
    jobs = [
      { id: jobId(component.name, model.distro.arches[0]!, true), component: component.name, arch: model.distro.arches[0]!, noarch: true },
      ...model.distro.arches.map((arch) => ({ id: jobId(component.name, arch, false), component: component.name, arch, noarch: false })),
    ];
  }

  return {
    component: component.name,
    definedAt: formatLocation(component.definedAt),
    origin: component.origin,
    spec: {
      path: projectRelative(model.root, component.specPath),
      sha256: rendered ? sha256Hex(rendered.baseSpecText) : null,
      renderedSha256: rendered ? sha256Hex(rendered.specText) : null,
    },
    sources: rendered ? sourcesOf(rendered, facts) : [],
    overlays: overlaysOf(component, rendered, diffs),
    fingerprint: rendered?.fingerprint ?? null,
    arches,
    criticalPath,
    lastBuilds: await lastBuilds(model, cacheDir, jobs),
    images: await imagesHolding(model, component.name, analysis),
    notes,
  };
}

