/**
 * Views of a build graph: the neighbourhood of some components (what they need,
 * or what needs them, to a depth), and the graph as Graphviz DOT or Mermaid.
 */
import type { BuildGraph, GraphEdge } from './model.js';

export type Direction = 'deps' | 'rdeps';

/** Components reachable from `roots` along edges (deps) or against them (rdeps), with their distance. */
export function reachable(graph: BuildGraph, roots: string[], direction: Direction, depth = Infinity): Map<string, number> {
  const next = new Map<string, string[]>();
  for (const edge of graph.edges) {
    const [from, to] = direction === 'deps' ? [edge.from, edge.to] : [edge.to, edge.from];
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  const distance = new Map<string, number>(roots.map((r) => [r, 0]));
  const queue = [...roots];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    const d = distance.get(node)!;
    if (d >= depth) continue;
    for (const target of [...new Set(next.get(node) ?? [])].sort()) {
      if (distance.has(target)) continue;
      distance.set(target, d + 1);
      queue.push(target);
    }
  }
  return distance;
}

/** The part of the graph around `roots`: their components, the edges walked between them, and cycles among them. */
export function neighbourhood(graph: BuildGraph, roots: string[], direction: Direction, depth = Infinity): BuildGraph {
  const distance = reachable(graph, roots, direction, depth);
  const inside = (name: string): boolean => distance.has(name);
  // Keep only edges that lead one step further out (or stay within the set along the walk's direction).
  const edges = graph.edges.filter((e) => {
    const [near, far] = direction === 'deps' ? [e.from, e.to] : [e.to, e.from];
    return inside(near) && inside(far) && distance.get(near)! < depth;
  });
  const cycles = graph.cycles.filter((cycle) => cycle.every(inside));
  return {
    ...graph,
    components: graph.components.filter((c) => inside(c.name)),
    edges,
    cycles,
    cycleDetails: (graph.cycleDetails ?? []).filter((c) => c.components.every(inside)),
    stronglyConnected: (graph.stronglyConnected ?? []).filter((s) => s.some(inside)),
    unresolved: graph.unresolved.filter((u) => inside(u.component)),
    skipped: [],
  };
}

/** Parallel edges merged, their requirements listed together. */
function mergedEdges(edges: GraphEdge[]): Array<{ from: string; to: string; via: string[] }> {
  const merged = new Map<string, { from: string; to: string; via: string[] }>();
  for (const edge of edges) {
    const key = `${edge.from}\u0000${edge.to}`;
    const entry = merged.get(key) ?? { from: edge.from, to: edge.to, via: [] };
    entry.via.push(edge.via);
    merged.set(key, entry);
  }
  return [...merged.values()];
}

const dotQuote = (text: string): string => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

export function toDot(graph: BuildGraph): string {
  const inCycle = new Set(graph.cycles.flat());
  const lines = [`digraph ${dotQuote(`strata-${graph.arch}`)} {`, '  rankdir=LR;', '  node [shape=box, fontname="monospace"];'];
  for (const c of graph.components) {
    const attrs = [`label=${dotQuote(`${c.name}\n${c.evr}`)}`];
    if (inCycle.has(c.name)) attrs.push('color=red');
    if (graph.unresolved.some((u) => u.component === c.name)) attrs.push('style=dashed');
    lines.push(`  ${dotQuote(c.name)} [${attrs.join(', ')}];`);
  }
  for (const e of mergedEdges(graph.edges)) {
    const red = inCycle.has(e.from) && inCycle.has(e.to) ? ', color=red' : '';
    lines.push(`  ${dotQuote(e.from)} -> ${dotQuote(e.to)} [label=${dotQuote(e.via.join('\n'))}${red}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

const mermaidText = (text: string): string => text.replace(/"/g, '#quot;');

export function toMermaid(graph: BuildGraph): string {
  const ids = new Map(graph.components.map((c, i) => [c.name, `c${i}`]));
  const lines = ['graph LR'];
  for (const c of graph.components) lines.push(`  ${ids.get(c.name)}["${mermaidText(`${c.name} ${c.evr}`)}"]`);
  for (const e of mergedEdges(graph.edges)) {
    if (!ids.has(e.from) || !ids.has(e.to)) continue;
    lines.push(`  ${ids.get(e.from)} -->|"${mermaidText(e.via.join(', '))}"| ${ids.get(e.to)}`);
  }
  const inCycle = graph.cycles.flat().filter((n, i, all) => all.indexOf(n) === i && ids.has(n));
  if (inCycle.length > 0) {
    lines.push('  classDef cycle stroke:#d00,stroke-width:2px');
    lines.push(`  class ${inCycle.map((n) => ids.get(n)).join(',')} cycle`);
  }
  return `${lines.join('\n')}\n`;
}
