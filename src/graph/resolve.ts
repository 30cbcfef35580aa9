/**
 * Resolving one component's BuildRequires for one arch: each requirement →
 * the build root, or the subpackage of another component that provides it, by
 * rpm's rules (version ranges with rpm's comparison, rich dependencies).
 *
 * Choice among several providers (documented in docs/graph.md), first rule that
 * decides wins:
 *   1. [graph].providers names the component for this capability;
 *   2. the build root offers it (it is satisfied outside the graph);
 *   3. a component other than the requiring one (a self-provide means bootstrapping);
 *   4. the most certain kind of provide: package name, explicit Provides,
 *      predicted provide, file;
 *   5. the highest version of the provide (what dnf would install);
 *   6. component name, then subpackage name, in byte order.
 */
import type { Dependency } from '../spec/model.js';
import { treeOf, type DepTree } from './dependency.js';
import { KIND_RANK, type Candidate, type Provider, type ProviderIndex } from './provider-index.js';
import { compareEvr, parseEvr, rangesOverlap } from './rpmvercmp.js';

export type Pick = { by: 'build-root'; provide: Dependency } | { by: 'component'; provider: Provider; alternatives: Provider[] };

export interface ResolverInput {
  index: ProviderIndex;
  buildRoot: Dependency[];
  /** capability name → component ([graph].providers). */
  overrides: Record<string, string>;
}

export interface Resolution {
  /** False when the requirement cannot be satisfied. */
  satisfied: boolean;
  /** What gets installed for it (empty for a satisfied condition-false rich dependency). */
  picks: Pick[];
}

const key = (p: Provider): string => `${p.component}\u0000${p.subpackage}`;

function compareProviders(a: Provider, b: Provider, requiring: string): number {
  const self = Number(a.component === requiring) - Number(b.component === requiring);
  if (self !== 0) return self;
  const kind = KIND_RANK[a.kind] - KIND_RANK[b.kind];
  if (kind !== 0) return kind;
  const version = a.provide.evr && b.provide.evr ? compareEvr(parseEvr(b.provide.evr), parseEvr(a.provide.evr)) : Number(!a.provide.evr) - Number(!b.provide.evr);
  if (version !== 0) return version;
  if (a.component !== b.component) return a.component < b.component ? -1 : 1;
  return a.subpackage < b.subpackage ? -1 : a.subpackage > b.subpackage ? 1 : 0;
}

export class Resolver {
  private readonly buildRoot = new Map<string, Dependency[]>();

  constructor(private readonly input: ResolverInput) {
    for (const provide of input.buildRoot) {
      const name = provide.name ?? provide.raw;
      this.buildRoot.set(name, [...(this.buildRoot.get(name) ?? []), provide]);
    }
  }

  buildRootProvide(name: string, flag: Dependency['flag'], evr: string | null): Dependency | undefined {
    return this.buildRoot.get(name)?.find((p) => rangesOverlap(p.flag, p.evr, flag, evr));
  }

  /** Providers that satisfy a simple requirement, best first (rules 3–6). */
  satisfying(tree: Extract<DepTree, { kind: 'simple' }>, requiring: string): Provider[] {
    const seen = new Set<string>();
    const out: Provider[] = [];
    const candidates: Candidate[] = this.input.index.candidates(tree.name, tree.flag, tree.evr);
    for (const candidate of [...candidates].sort((a, b) => compareProviders(a.provider, b.provider, requiring))) {
      if (!candidate.satisfies || seen.has(key(candidate.provider))) continue;
      seen.add(key(candidate.provider));
      out.push(candidate.provider);
    }
    return out;
  }

  private simple(tree: Extract<DepTree, { kind: 'simple' }>, requiring: string): Resolution {
    const pinned = Object.hasOwn(this.input.overrides, tree.name) ? this.input.overrides[tree.name] : undefined;
    if (pinned !== undefined) {
      const providers = this.satisfying(tree, requiring);
      const chosen = providers.find((p) => p.component === pinned);
      if (chosen) return { satisfied: true, picks: [{ by: 'component', provider: chosen, alternatives: providers.filter((p) => p !== chosen) }] };
    }
    const root = this.buildRootProvide(tree.name, tree.flag, tree.evr);
    if (root) return { satisfied: true, picks: [{ by: 'build-root', provide: root }] };
    const providers = this.satisfying(tree, requiring);
    if (providers.length === 0) return { satisfied: false, picks: [] };
    return { satisfied: true, picks: [{ by: 'component', provider: providers[0]!, alternatives: providers.slice(1) }] };
  }

  /**
   * Whether a condition of `if`/`unless` holds in the build root being
   * assembled: offered by the build root, or by a subpackage already picked for
   * this component's unconditional requirements.
   */
  private present(tree: DepTree, requiring: string, installed: ReadonlySet<string>): boolean {
    switch (tree.kind) {
      case 'simple':
        return Boolean(this.buildRootProvide(tree.name, tree.flag, tree.evr)) || this.satisfying(tree, requiring).some((p) => installed.has(key(p)));
      case 'and':
      case 'with':
        return tree.operands.every((t) => this.present(t, requiring, installed));
      case 'or':
        return tree.operands.some((t) => this.present(t, requiring, installed));
      case 'without':
        return this.present(tree.then, requiring, installed) && !this.present(tree.condition, requiring, installed);
      case 'if':
        return this.present(tree.condition, requiring, installed) ? this.present(tree.then, requiring, installed) : tree.otherwise ? this.present(tree.otherwise, requiring, installed) : true;
      case 'unless':
        return !this.present(tree.condition, requiring, installed) ? this.present(tree.then, requiring, installed) : tree.otherwise ? this.present(tree.otherwise, requiring, installed) : true;
    }
  }

  /** Subpackages satisfying every operand on their own (`with`), or the first minus the second (`without`). */
  private samePackage(include: DepTree[], exclude: DepTree | null, requiring: string): Resolution {
    const sets = include.map((t) => (t.kind === 'simple' ? this.satisfying(t, requiring) : []));
    const excluded = new Set(exclude && exclude.kind === 'simple' ? this.satisfying(exclude, requiring).map(key) : []);
    const common = sets[0]!.filter((p) => sets.every((set) => set.some((q) => key(q) === key(p))) && !excluded.has(key(p)));
    if (common.length > 0) return { satisfied: true, picks: [{ by: 'component', provider: common[0]!, alternatives: common.slice(1) }] };
    const rootOnly = include.every((t) => t.kind === 'simple' && this.buildRootProvide(t.name, t.flag, t.evr));
    if (rootOnly && !(exclude && exclude.kind === 'simple' && this.buildRootProvide(exclude.name, exclude.flag, exclude.evr))) {
      const first = include[0] as Extract<DepTree, { kind: 'simple' }>;
      return { satisfied: true, picks: [{ by: 'build-root', provide: this.buildRootProvide(first.name, first.flag, first.evr)! }] };
    }
    return { satisfied: false, picks: [] };
  }

  resolveTree(tree: DepTree, requiring: string, installed: ReadonlySet<string>): Resolution {
    switch (tree.kind) {
      case 'simple':
        return this.simple(tree, requiring);
      case 'and': {
        const parts = tree.operands.map((t) => this.resolveTree(t, requiring, installed));
        return { satisfied: parts.every((p) => p.satisfied), picks: parts.flatMap((p) => p.picks) };
      }
      case 'or': {
        // dnf prefers an alternative already present, else the first one that can be satisfied.
        const present = tree.operands.find((t) => this.present(t, requiring, installed));
        for (const operand of present ? [present, ...tree.operands] : tree.operands) {
          const part = this.resolveTree(operand, requiring, installed);
          if (part.satisfied) return part;
        }
        return { satisfied: false, picks: [] };
      }
      case 'with':
        return this.samePackage(tree.operands, null, requiring);
      case 'without':
        return this.samePackage([tree.then], tree.condition, requiring);
      case 'if':
      case 'unless': {
        const holds = this.present(tree.condition, requiring, installed);
        const active = (tree.kind === 'if') === holds ? tree.then : tree.otherwise;
        return active ? this.resolveTree(active, requiring, installed) : { satisfied: true, picks: [] };
      }
    }
  }

  resolve(dep: Dependency, requiring: string, installed: ReadonlySet<string>): Resolution {
    return this.resolveTree(treeOf(dep), requiring, installed);
  }
}

/** Whether a requirement's truth depends on what else is installed (`if`/`unless` anywhere in it). */
export function isConditional(dep: Dependency): boolean {
  const walk = (tree: DepTree): boolean => {
    switch (tree.kind) {
      case 'simple':
        return false;
      case 'if':
      case 'unless':
        return true;
      case 'without':
        return walk(tree.then) || walk(tree.condition);
      default:
        return tree.operands.some(walk);
    }
  };
  return walk(treeOf(dep));
}

export const pickKey = key;
