/**
 * Spec facts → the build graph of one arch: every BuildRequires resolved (to
 * a component's subpackage, the build root, a configured cycle break, or
 * nothing), one edge per requirement that needs another component's output,
 * cycles with their concrete paths, and every unresolved requirement with its
 * nearest candidates.
 */
import type { Arch, CycleBreak, DistroModel } from '../config/model.js';
import type { Dependency, SpecFacts } from '../spec/model.js';
import type { BuildGraph, GraphComponent, GraphEdge, ResolvedRequirement } from './model.js';
import { simpleDependency, treeOf, type DepTree } from './dependency.js';
import { ProviderIndex } from './provider-index.js';
import { Resolver, isConditional, pickKey, type Pick } from './resolve.js';
import { cyclesOf, stronglyConnected } from './cycles.js';
import { NameFinder } from './nearest.js';

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function buildRootProvides(model: DistroModel): Dependency[] {
  return model.build.buildRoot.provides.map((text) => {
    try {
      return simpleDependency(text);
    } catch {
      return { raw: text, name: text, flag: null, evr: null };
    }
  });
}

function skipReason(fact: SpecFacts, arch: Arch): string {
  if (fact.exclusiveArch.length > 0 && !fact.exclusiveArch.includes(arch)) return `ExclusiveArch: ${fact.exclusiveArch.join(' ')}`;
  return `ExcludeArch: ${fact.excludeArch.join(' ')}`;
}

function simpleLeaves(tree: DepTree): Array<Extract<DepTree, { kind: 'simple' }>> {
  switch (tree.kind) {
    case 'simple':
      return [tree];
    case 'and':
    case 'or':
    case 'with':
      return tree.operands.flatMap(simpleLeaves);
    case 'without':
      return simpleLeaves(tree.then);
    default:
      return [...simpleLeaves(tree.then), ...(tree.otherwise ? simpleLeaves(tree.otherwise) : [])];
  }
}

function breakFor(breaks: CycleBreak[], dep: Dependency): CycleBreak | undefined {
  return breaks.find((b) => b.requirement === dep.raw || (dep.name !== null && b.requirement === dep.name));
}

export function buildGraph(model: DistroModel, facts: SpecFacts[], arch: Arch): BuildGraph {
  const index = new ProviderIndex(facts);
  const buildRoot = buildRootProvides(model);
  const resolver = new Resolver({ index, buildRoot, overrides: model.graph.providers });
  const breaks = new Map<string, CycleBreak[]>();
  for (const b of model.graph.cycleBreaks) breaks.set(b.component, [...(breaks.get(b.component) ?? []), b]);
  const usedBreaks = new Set<CycleBreak>();
  const warnings: string[] = [];
  const sorted = [...facts].sort((a, b) => byName(a.component, b.component));
  const components: GraphComponent[] = [];
  const skipped: Array<{ component: string; reason: string }> = [];
  const edges = new Map<string, GraphEdge>();
  const unresolvedDeps: Array<{ component: string; dep: Dependency }> = [];
  const counts = { implicit: 0, explicit: 0, predicted: 0, file: 0, buildRoot: 0, cycleBreak: 0, notRequired: 0, unresolved: 0, ambiguous: 0 };

  for (const fact of sorted) {
    if (!fact.buildable) {
      skipped.push({ component: fact.component, reason: skipReason(fact, arch) });
      continue;
    }
    const installed = new Set<string>();
    const resolved = new Map<Dependency, ResolvedRequirement>();
    const resolveOne = (dep: Dependency): void => {
      const cycleBreak = breakFor(breaks.get(fact.component) ?? [], dep);
      if (cycleBreak) {
        usedBreaks.add(cycleBreak);
        counts.cycleBreak++;
        resolved.set(dep, { requirement: dep.raw, provider: null, subpackage: null, resolvedBy: 'cycle-break', provideKind: null });
        return;
      }
      const result = resolver.resolve(dep, fact.component, installed);
      const componentPicks = result.picks.filter((p): p is Extract<Pick, { by: 'component' }> => p.by === 'component');
      for (const pick of componentPicks) installed.add(pickKey(pick.provider));
      if (!result.satisfied) {
        counts.unresolved++;
        unresolvedDeps.push({ component: fact.component, dep });
        resolved.set(dep, { requirement: dep.raw, provider: null, subpackage: null, resolvedBy: 'unresolved', provideKind: null });
        return;
      }
      const first = componentPicks[0];
      if (!first) {
        const notRequired = result.picks.length === 0;
        if (notRequired) counts.notRequired++;
        else counts.buildRoot++;
        resolved.set(dep, { requirement: dep.raw, provider: null, subpackage: null, resolvedBy: notRequired ? 'not-required' : 'build-root', provideKind: null });
        return;
      }
      counts[first.provider.kind]++;
      const alternatives = [...new Set(first.alternatives.map((p) => p.component))].filter((c) => c !== first.provider.component);
      if (alternatives.length > 0) counts.ambiguous++;
      resolved.set(dep, {
        requirement: dep.raw,
        provider: first.provider.component,
        subpackage: first.provider.subpackage,
        resolvedBy: 'component',
        provideKind: first.provider.kind,
        providers: componentPicks.map((p) => ({ component: p.provider.component, subpackage: p.provider.subpackage, capability: p.provider.provide.raw })),
        ...(alternatives.length > 0 ? { alternatives } : {}),
      });
      for (const pick of componentPicks) {
        const edge = { from: fact.component, to: pick.provider.component, via: dep.raw };
        edges.set(`${edge.from}\u0000${edge.to}\u0000${edge.via}`, edge);
      }
    };
    // Conditions of `(a if b)` look at what the unconditional requirements install, so those go first.
    for (const dep of fact.buildRequires) if (!isConditional(dep)) resolveOne(dep);
    for (const dep of fact.buildRequires) if (isConditional(dep)) resolveOne(dep);
    components.push({
      name: fact.component,
      evr: fact.evr,
      subpackages: fact.subpackages.map((s) => s.name),
      noarch: fact.noarch,
      buildRequires: fact.buildRequires.map((dep) => resolved.get(dep)!),
    });
  }

  for (const [capability, component] of Object.entries(model.graph.providers).sort(([a], [b]) => byName(a, b))) {
    const provides = index.candidates(capability, null, null).some((c) => c.provider.component === component);
    if (!provides) warnings.push(`[graph.providers] pins '${capability}' to ${component}, which does not provide it for ${arch}`);
  }
  for (const b of model.graph.cycleBreaks) {
    if (!usedBreaks.has(b) && sorted.some((f) => f.component === b.component && f.buildable)) {
      warnings.push(`[[graph.cycle-breaks]] for ${b.component} names '${b.requirement}', which is not among its BuildRequires for ${arch}`);
    }
  }

  const edgeList = [...edges.values()].sort((a, b) => byName(a.from, b.from) || byName(a.to, b.to) || byName(a.via, b.via));
  const sccs = stronglyConnected(components.map((c) => c.name), edgeList);
  const cycleDetails = sccs.flatMap((scc) => cyclesOf(scc, edgeList));
  // Only built when something is unresolved: indexing every name costs more than the rest of a clean graph.
  const finder = unresolvedDeps.length > 0 ? new NameFinder([...index.names(), ...buildRoot.map((d) => d.name ?? d.raw)]) : null;
  const unresolved = unresolvedDeps.map(({ component, dep }) => ({
    component,
    requirement: dep.raw,
    candidates: candidatesFor(dep, index, resolver, finder!, arch),
  }));
  const buildRequires = components.reduce((n, c) => n + c.buildRequires.length, 0);
  const resolvedCount = buildRequires - counts.unresolved;
  const withoutPrediction = counts.implicit + counts.explicit + counts.buildRoot + counts.cycleBreak + counts.notRequired;
  return {
    arch,
    components,
    edges: edgeList,
    cycles: cycleDetails.map((c) => c.components),
    unresolved,
    stats: {
      components: components.length,
      skipped: skipped.length,
      edges: edgeList.length,
      buildRequires,
      resolved: resolvedCount,
      resolvedByImplicit: counts.implicit,
      resolvedByExplicit: counts.explicit,
      resolvedByPredicted: counts.predicted,
      resolvedByFile: counts.file,
      resolvedByBuildRoot: counts.buildRoot,
      resolvedByCycleBreak: counts.cycleBreak,
      notRequired: counts.notRequired,
      unresolved: counts.unresolved,
      ambiguous: counts.ambiguous,
      resolvedShare: buildRequires === 0 ? 1 : resolvedCount / buildRequires,
      resolvedShareWithoutPrediction: buildRequires === 0 ? 1 : withoutPrediction / buildRequires,
      cycles: cycleDetails.length,
      componentsInCycles: sccs.reduce((n, s) => n + s.length, 0),
    },
    cycleDetails,
    stronglyConnected: sccs,
    skipped,
    warnings,
  };
}

/** Why nothing matched, most telling first: versions that miss, providers not built here, names that are close. */
function candidatesFor(dep: Dependency, index: ProviderIndex, resolver: Resolver, finder: NameFinder, arch: Arch): string[] {
  const out: string[] = [];
  for (const leaf of simpleLeaves(treeOf(dep))) {
    if (resolver.buildRootProvide(leaf.name, leaf.flag, leaf.evr)) continue;
    const candidates = index.candidates(leaf.name, leaf.flag, leaf.evr);
    if (candidates.some((c) => c.satisfies)) continue;
    for (const c of candidates) out.push(`${c.provider.provide.raw} (from ${c.provider.component}: version does not match)`);
    for (const component of index.unbuildableProviders(leaf.name)) out.push(`${leaf.name} (from ${component}: not built for ${arch})`);
    out.push(...finder.nearest(leaf.name));
  }
  return [...new Set(out)].slice(0, 8);
}
