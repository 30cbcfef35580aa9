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
  resolvedBy: 'component' | 'build-root' | 'cycle-break' | 'unresolved';
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

export interface BuildGraph {
  arch: Arch;
  components: GraphComponent[];
  edges: GraphEdge[];
  cycles: string[][];
  unresolved: Array<{ component: string; requirement: string; candidates: string[] }>;
  stats: Record<string, number>;
}
