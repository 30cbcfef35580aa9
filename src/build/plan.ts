/**
 * From build graphs to build jobs: one job per component and arch, one per
 * noarch component (built once, on the build arch, published for every arch).
 * A job needs the subpackages that satisfy its BuildRequires (from the graph)
 * plus everything those need at run time (from the spec facts), because its
 * build installs them; it depends on the jobs that make them.
 */
import type { Arch, DistroModel } from '../config/model.js';
import type { BuildGraph } from '../graph/model.js';
import type { SpecFacts } from '../spec/model.js';
import { StrataError } from '../util/errors.js';

export interface PlannedJob {
  /** `component/arch`, or `component/noarch`. */
  id: string;
  component: string;
  /** The arch the job is built in (rpmbuild --target). */
  arch: Arch;
  noarch: boolean;
  /** The repositories its RPMs go into. */
  publishTo: Arch[];
  /** Jobs whose RPMs this one installs, sorted. */
  deps: string[];
  /** Per dependency job, the subpackage names it installs. */
  needs: Record<string, string[]>;
}

export interface SkippedComponent {
  component: string;
  arch: Arch;
  reason: string;
}

export interface JobPlanInput {
  model: DistroModel;
  /** Arches whose repositories are wanted. */
  arches: Arch[];
  /** Build only these components and what they need (all when empty). */
  components: string[];
  facts: ReadonlyMap<Arch, SpecFacts[]>;
  graphs: ReadonlyMap<Arch, BuildGraph>;
  /** Where noarch components are built (must have facts and a graph). */
  noarchArch: Arch;
}

export function jobId(component: string, arch: Arch, noarch: boolean): string {
  return `${component}/${noarch ? 'noarch' : arch}`;
}

type Provider = { component: string; subpackage: string };

/** capability (name, Provides, predicted Provides, file path) → the subpackages offering it. */
function providerIndex(facts: SpecFacts[]): Map<string, Provider[]> {
  const index = new Map<string, Provider[]>();
  const add = (capability: string | null, provider: Provider): void => {
    if (capability === null) return;
    const list = index.get(capability) ?? [];
    if (!list.some((p) => p.component === provider.component && p.subpackage === provider.subpackage)) list.push(provider);
    index.set(capability, list);
  };
  for (const fact of [...facts].sort((a, b) => (a.component < b.component ? -1 : 1))) {
    for (const sub of fact.subpackages) {
      const provider = { component: fact.component, subpackage: sub.name };
      add(sub.name, provider);
      for (const dep of [...sub.provides, ...sub.predictedProvides]) add(dep.name, provider);
      for (const file of sub.files) add(file, provider);
    }
  }
  return index;
}

/** The subpackages a component's build installs: its BuildRequires providers and their runtime closure. */
function closure(component: string, graph: BuildGraph, facts: SpecFacts[], model: DistroModel): Map<string, Set<string>> {
  const byComponent = new Map(facts.map((fact) => [fact.component, fact]));
  const index = providerIndex(facts);
  const needed = new Map<string, Set<string>>();
  const queue: Provider[] = [];
  const want = (provider: Provider): void => {
    if (provider.component === component) return;
    const set = needed.get(provider.component) ?? new Set<string>();
    if (set.has(provider.subpackage)) return;
    set.add(provider.subpackage);
    needed.set(provider.component, set);
    queue.push(provider);
  };
  const node = graph.components.find((c) => c.name === component);
  for (const requirement of node?.buildRequires ?? []) {
    if (requirement.resolvedBy !== 'component' || requirement.provider === null) continue;
    const subs = requirement.subpackage !== null ? [requirement.subpackage] : (byComponent.get(requirement.provider)?.subpackages.map((s) => s.name) ?? []);
    for (const subpackage of subs) want({ component: requirement.provider, subpackage });
  }
  while (queue.length > 0) {
    const { component: name, subpackage } = queue.shift()!;
    const sub = byComponent.get(name)?.subpackages.find((s) => s.name === subpackage);
    for (const requirement of sub?.requires ?? []) {
      if (requirement.name === null || requirement.name.startsWith('rpmlib(')) continue;
      const providers = index.get(requirement.name);
      if (!providers || providers.length === 0) continue; // the build root's business
      const chosen =
        providers.find((p) => p.component === name) ??
        providers.find((p) => p.component === model.graph.providers[requirement.name!]) ??
        providers[0]!;
      want(chosen);
    }
  }
  return needed;
}

export function planJobs(input: JobPlanInput): { jobs: PlannedJob[]; skipped: SkippedComponent[] } {
  const { model } = input;
  const jobs = new Map<string, PlannedJob>();
  const skipped: SkippedComponent[] = [];
  const factsOf = (arch: Arch): SpecFacts[] => {
    const facts = input.facts.get(arch);
    if (!facts) throw new StrataError(`no spec facts for ${arch}`, { kind: 'build' });
    return facts;
  };
  const graphOf = (arch: Arch): BuildGraph => {
    const graph = input.graphs.get(arch);
    if (!graph) throw new StrataError(`no build graph for ${arch}`, { kind: 'build' });
    return graph;
  };

  const ensure = (component: string, arch: Arch): PlannedJob | null => {
    const fact = factsOf(arch).find((f) => f.component === component);
    // A provider that cannot be built for this arch makes no job: rpmbuild then names what is missing.
    if (!fact || !fact.buildable) return null;
    const noarch = fact.noarch;
    const buildArch = noarch ? input.noarchArch : arch;
    const id = jobId(component, buildArch, noarch);
    const existing = jobs.get(id);
    if (existing) {
      if (!existing.publishTo.includes(arch) && input.arches.includes(arch)) existing.publishTo.push(arch);
      return existing;
    }
    const job: PlannedJob = { id, component, arch: buildArch, noarch, publishTo: input.arches.includes(arch) ? [arch] : [], deps: [], needs: {} };
    jobs.set(id, job);
    const buildFacts = factsOf(buildArch);
    for (const [dep, subs] of closure(component, graphOf(buildArch), buildFacts, model)) {
      const depJob = ensure(dep, buildArch);
      if (!depJob) continue;
      job.needs[depJob.id] = [...new Set([...(job.needs[depJob.id] ?? []), ...subs])].sort();
    }
    job.deps = Object.keys(job.needs).sort();
    return job;
  };

  const wanted = new Set(input.components);
  for (const name of wanted) {
    if (!model.components[name]) throw new StrataError(`unknown component '${name}'`, { kind: 'usage', hint: 'see strata config --json for the list of components' });
  }
  for (const arch of input.arches) {
    for (const fact of [...factsOf(arch)].sort((a, b) => (a.component < b.component ? -1 : 1))) {
      if (wanted.size > 0 && !wanted.has(fact.component)) continue;
      const allowed = model.components[fact.component]?.arches;
      if (!fact.buildable || (allowed && !allowed.includes(arch))) {
        skipped.push({ component: fact.component, arch, reason: fact.buildable ? `not built for ${arch} (config arches)` : `ExclusiveArch/ExcludeArch rule out ${arch}` });
        continue;
      }
      ensure(fact.component, arch);
    }
  }
  for (const job of jobs.values()) job.publishTo.sort();
  return { jobs: [...jobs.values()].sort((a, b) => (a.id < b.id ? -1 : 1)), skipped };
}
