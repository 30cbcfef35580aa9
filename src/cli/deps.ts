import type { BuildGraph, ResolvedRequirement } from '../graph/model.js';
import { neighbourhoodCommand, problemLines } from './graph.js';
import { neighbourhood, reachable } from '../graph/export.js';

function how(r: ResolvedRequirement): string {
  switch (r.resolvedBy) {
    case 'component': {
      const via = (r.providers ?? []).map((p) => `${p.component}/${p.subpackage} (${p.capability})`).join(', ');
      const kind = r.provideKind ? `, ${r.provideKind} provide` : '';
      const others = r.alternatives && r.alternatives.length > 0 ? `; also provided by ${r.alternatives.join(', ')}` : '';
      return `${via || `${r.provider}/${r.subpackage}`}${kind}${others}`;
    }
    case 'build-root':
      return 'build root';
    case 'cycle-break':
      return 'outside the graph (cycle break in config)';
    case 'not-required':
      return 'not required here (its condition is false)';
    default:
      return 'UNRESOLVED';
  }
}

export function depsText(graph: BuildGraph, component: string, depth: number): string {
  const node = graph.components.find((c) => c.name === component)!;
  const width = Math.max(0, ...node.buildRequires.map((r) => r.requirement.length));
  const lines = [`${component} ${node.evr} (${graph.arch}) needs:`];
  for (const r of node.buildRequires) lines.push(`  ${r.requirement.padEnd(width)}  ${how(r)}`);
  if (node.buildRequires.length === 0) lines.push('  nothing (no BuildRequires)');
  const distance = reachable(graph, [component], 'deps', depth);
  distance.delete(component);
  if (distance.size > 0) {
    lines.push(`components built before it${Number.isFinite(depth) ? ` (depth ${depth})` : ''}:`);
    for (const [name, d] of [...distance].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))) lines.push(`  ${name}  (${d} step${d === 1 ? '' : 's'})`);
  }
  lines.push(...problemLines(neighbourhood(graph, [component], 'deps', depth)));
  return lines.join('\n');
}

export default neighbourhoodCommand('deps', {
  describe: "what a component's build needs: each BuildRequires with its provider, and every component built before it",
  examples: [
    ['strata deps greet', "greet's BuildRequires, how each is satisfied, and the components it waits for"],
    ['strata deps greet --depth 1 --json', 'only direct dependencies, as JSON'],
    ['strata deps greet --arch aarch64', 'the same for the aarch64 build'],
  ],
  text: depsText,
});
