/**
 * Who provides what, for one arch: every capability of every subpackage a
 * buildable component produces, by name, plus its files for path requirements.
 * Each provider says where the capability came from, because explicit
 * Provides, rpm's implicit `NAME = EVR` and predicted provides are not equally
 * certain (and stats report the share resolved by each).
 */
import type { Dependency, SpecFacts } from '../spec/model.js';
import { rangesOverlap } from './rpmvercmp.js';
import { globToRegExp } from '../util/glob.js';

/** How a subpackage provides a capability, most certain first. */
export type ProvideKind = 'implicit' | 'explicit' | 'predicted' | 'file';
export const KIND_RANK: Record<ProvideKind, number> = { implicit: 0, explicit: 1, predicted: 2, file: 3 };

export interface Provider {
  component: string;
  subpackage: string;
  /** The provide as the subpackage has it (for files: the path, or the folder or glob that holds it). */
  provide: Dependency;
  kind: ProvideKind;
}

export interface Candidate {
  provider: Provider;
  /** Whether the provide's version range satisfies the requirement. */
  satisfies: boolean;
}

const globChars = /[*?[\]{}]/;

/** rpm's %files globs (glob(3) with braces: no `**`), read from specs, so never rejected. */
export function filesGlobToRegExp(glob: string): RegExp {
  return globToRegExp(glob, { globstar: false, strict: false });
}

export class ProviderIndex {
  private readonly byName = new Map<string, Provider[]>();
  private readonly files = new Map<string, Provider[]>();
  /**
   * %files globs by the folder they list entries of (`/usr/lib64` for
   * `/usr/lib64/libx.so.1*`), so a path is only tested against the globs of its
   * own folders; globs with wildcards in a folder part are tested always.
   */
  private readonly globsByDir = new Map<string, Array<{ pattern: RegExp; provider: Provider }>>();
  private readonly deepGlobs: Array<{ pattern: RegExp; provider: Provider }> = [];
  /** Components not built for this arch: never providers, but named in hints. */
  readonly unbuildable = new Map<string, SpecFacts>();

  constructor(facts: SpecFacts[]) {
    for (const spec of [...facts].sort((a, b) => (a.component < b.component ? -1 : a.component > b.component ? 1 : 0))) {
      if (!spec.buildable) {
        this.unbuildable.set(spec.component, spec);
        continue;
      }
      for (const sub of spec.subpackages) {
        const base = { component: spec.component, subpackage: sub.name };
        for (const dep of sub.provides) {
          if (dep.name === null) continue;
          // rpm adds NAME = EVR and NAME(isa) = EVR to every package by itself.
          const implicit = dep.name === sub.name || dep.name.startsWith(`${sub.name}(`);
          this.add(this.byName, dep.name, { ...base, provide: dep, kind: implicit ? 'implicit' : 'explicit' });
        }
        for (const dep of sub.predictedProvides) {
          if (dep.name !== null) this.add(this.byName, dep.name, { ...base, provide: dep, kind: 'predicted' });
        }
        for (const path of sub.files) {
          const provider: Provider = { ...base, provide: { raw: path, name: path, flag: null, evr: null }, kind: 'file' };
          const bare = path.replace(/\/$/, '');
          if (!globChars.test(bare)) {
            this.add(this.files, bare, provider);
            continue;
          }
          const glob = { pattern: filesGlobToRegExp(bare), provider };
          const dir = bare.slice(0, bare.lastIndexOf('/')) || '/';
          if (globChars.test(dir)) this.deepGlobs.push(glob);
          else {
            const list = this.globsByDir.get(dir);
            if (list) list.push(glob);
            else this.globsByDir.set(dir, [glob]);
          }
        }
      }
    }
  }

  private add(map: Map<string, Provider[]>, key: string, provider: Provider): void {
    const list = map.get(key);
    if (list) list.push(provider);
    else map.set(key, [provider]);
  }

  /** Every provider of the requirement's name, each marked with whether its version satisfies it. */
  candidates(name: string, flag: Dependency['flag'], evr: string | null): Candidate[] {
    const out: Candidate[] = (this.byName.get(name) ?? []).map((provider) => ({
      provider,
      satisfies: rangesOverlap(provider.provide.flag, provider.provide.evr, flag, evr),
    }));
    if (name.startsWith('/')) for (const provider of this.fileProviders(name)) out.push({ provider, satisfies: true });
    return out;
  }

  /**
   * Packages that ship a path: listed exactly, matched by a %files glob, or
   * inside a folder listed without %dir (which packages everything below it).
   */
  private fileProviders(path: string): Provider[] {
    const out = [...(this.files.get(path) ?? [])];
    // `path` itself, then each folder above it: a folder entry without %dir ships everything below it.
    for (let target = path; target.length > 1; target = target.slice(0, target.lastIndexOf('/')) || '/') {
      const below = target !== path;
      if (below) for (const provider of this.files.get(target) ?? []) if (!provider.provide.raw.endsWith('/')) out.push(provider);
      const dir = target.slice(0, target.lastIndexOf('/')) || '/';
      for (const globs of [this.globsByDir.get(dir) ?? [], this.deepGlobs]) {
        for (const { pattern, provider } of globs) {
          if ((!below || !provider.provide.raw.endsWith('/')) && pattern.test(target)) out.push(provider);
        }
      }
    }
    return out;
  }

  /** Every capability name (for "nearest candidates" of an unresolved requirement). */
  names(): string[] {
    return [...this.byName.keys(), ...this.files.keys()];
  }

  /** Whether a component (buildable here) provides the name, for the unbuildable hint. */
  unbuildableProviders(name: string): string[] {
    const out: string[] = [];
    for (const [component, spec] of this.unbuildable) {
      if (spec.subpackages.some((sub) => sub.provides.some((p) => p.name === name) || sub.predictedProvides.some((p) => p.name === name))) out.push(component);
    }
    return out;
  }
}
