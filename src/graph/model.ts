/**
 * The build graph for one arch: which component's build needs which other
 * component's output, and why.
 */
import type { Arch } from '../config/model.js';

export interface ResolvedRequirement {
  requirement: string;
  /** The providing component, or null when it resolves outside the graph or not at all. */
  provider: string | null;
  /** The subpackage that provides it (component providers only). */
  subpackage: string | null;
  /**
   * 'not-required': a rich dependency whose condition is false here (`(a if b)`
   * without b), so nothing is installed for it.
   */
  resolvedBy: 'component' | 'build-root' | 'cycle-break' | 'unresolved' | 'not-required';
  /** How the chosen provider provides it: its package name, an explicit Provides, a predicted provide, or a file. */
  provideKind?: 'implicit' | 'explicit' | 'predicted' | 'file' | null;
  /** Every component subpackage installed for it (rich dependencies such as `(a and b)` may need several). */
  providers?: Array<{ component: string; subpackage: string; capability: string }>;
  /** Other components that could have provided it, had the choice rules not picked `provider`. */
  alternatives?: string[];
}

export interface GraphComponent {
  name: string;
  evr: string;
  subpackages: string[];
  noarch: boolean;
  buildRequires: ResolvedRequirement[];
}

export interface GraphEdge {
  /** The component that needs… */
  from: string;
  /** …this component's output… */
  to: string;
  /** …because of this requirement. */
  via: string;
}

export interface CycleDetail {
  /** The components around the cycle, starting from the smallest name. */
  components: string[];
  /** One edge per step, closing back at the first component. */
  steps: GraphEdge[];
  /** "A needs x, provided by B; B needs y, provided by A". */
  text: string;
}

export interface BuildGraph {
  arch: Arch;
  components: GraphComponent[];
  edges: GraphEdge[];
  /** Concrete cycles (components in order around each). */
  cycles: string[][];
  unresolved: Array<{ component: string; requirement: string; candidates: string[] }>;
  stats: Record<string, number>;
  /** Each cycle with the requirement behind every step. */
  cycleDetails?: CycleDetail[];
  /** Strongly connected components (every component in any cycle, grouped). */
  stronglyConnected?: string[][];
  /** Components left out for this arch (ExclusiveArch/ExcludeArch, or no package built). */
  skipped?: Array<{ component: string; reason: string }>;
  /** Config that matched nothing: providers pins and cycle breaks that no longer apply. */
  warnings?: string[];
}
