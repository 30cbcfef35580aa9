/**
 * Build-dependency cycles: strongly connected components (Tarjan), and for each
 * a set of concrete cycles with the requirement behind every step, so a cycle
 * reads "A needs x, provided by B; B needs y, provided by A".
 */
import type { GraphEdge } from './model.js';

/** Tarjan's algorithm (iterative, so thousands of nodes never overflow the stack); components with more than one node or a self-loop, each sorted, in order of their first node. */
export function stronglyConnected(nodes: string[], edges: GraphEdge[]): string[][] {
  const adjacency = adjacencyOf(nodes, edges);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let counter = 0;
  for (const root of [...nodes].sort()) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; next: number }> = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = adjacency.get(frame.node) ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next++]!;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const members: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          members.push(member);
        } while (member !== frame.node);
        const selfLoop = members.length === 1 && targets.includes(frame.node);
        if (members.length > 1 || selfLoop) out.push(members.sort());
      }
    }
  }
  return out.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
}

function adjacencyOf(nodes: string[], edges: GraphEdge[]): Map<string, string[]> {
  const adjacency = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const edge of edges) {
    const list = adjacency.get(edge.from);
    if (list && !list.includes(edge.to)) list.push(edge.to);
  }
  for (const list of adjacency.values()) list.sort();
  return adjacency;
}

export interface CycleReport {
  /** The components around the cycle, starting from the smallest name. */
  components: string[];
  /** One edge per step, closing back at the first component. */
  steps: GraphEdge[];
  /** "A needs x, provided by B; B needs y, provided by A". */
  text: string;
}

/**
 * Within one strongly connected component, the shortest cycle through each
 * member (breadth-first, stable order), without duplicates. Every member of
 * the component appears in at least one reported cycle.
 */
export function cyclesOf(scc: string[], edges: GraphEdge[]): CycleReport[] {
  const members = new Set(scc);
  const inside = edges.filter((e) => members.has(e.from) && members.has(e.to));
  // The first requirement (in sorted order) explains each step.
  const step = new Map<string, GraphEdge>();
  for (const edge of [...inside].sort((a, b) => (a.via < b.via ? -1 : a.via > b.via ? 1 : 0))) {
    const k = `${edge.from}\u0000${edge.to}`;
    if (!step.has(k)) step.set(k, edge);
  }
  const adjacency = adjacencyOf(scc, inside);
  const seen = new Set<string>();
  const reports: CycleReport[] = [];
  for (const start of [...scc].sort()) {
    const path = shortestCycle(start, adjacency);
    if (!path) continue;
    const rotation = rotateToSmallest(path);
    const id = rotation.join('\u0000');
    if (seen.has(id)) continue;
    seen.add(id);
    const steps = rotation.map((from, i) => step.get(`${from}\u0000${rotation[(i + 1) % rotation.length]!}`)!);
    reports.push({ components: rotation, steps, text: steps.map((s) => `${s.from} needs ${s.via}, provided by ${s.to}`).join('; ') });
  }
  return reports;
}

function shortestCycle(start: string, adjacency: Map<string, string[]>): string[] | null {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const next of adjacency.get(node) ?? []) {
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return path;
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return null;
}

function rotateToSmallest(path: string[]): string[] {
  let best = 0;
  for (let i = 1; i < path.length; i++) if (path[i]! < path[best]!) best = i;
  return [...path.slice(best), ...path.slice(0, best)];
}
