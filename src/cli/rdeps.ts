import type { BuildGraph } from '../graph/model.js';
import { neighbourhoodCommand } from './graph.js';
import { reachable } from '../graph/export.js';

export function rdepsText(graph: BuildGraph, component: string, depth: number): string {
  const direct = graph.edges.filter((e) => e.to === component && e.from !== component);
  const lines = [`needed by (${graph.arch}):`];
  for (const e of direct) {
    const sub = graph.components.find((c) => c.name === e.from)?.buildRequires.find((r) => r.requirement === e.via);
    const through = sub?.providers?.find((p) => p.component === component);
    lines.push(`  ${e.from}  needs ${e.via}${through ? `, provided by ${through.subpackage}` : ''}`);
  }
  if (direct.length === 0) lines.push('  nothing builds on it');
  const distance = reachable(graph, [component], 'rdeps', depth);
  distance.delete(component);
  if (distance.size > direct.length) {
    lines.push(`everything rebuilt after it changes${Number.isFinite(depth) ? ` (depth ${depth})` : ''}: ${distance.size} components`);
    for (const [name, d] of [...distance].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))) lines.push(`  ${name}  (${d} step${d === 1 ? '' : 's'})`);
  }
  return lines.join('\n');
}

export default neighbourhoodCommand('rdeps', {
  describe: 'what needs a component: who BuildRequires something it provides, directly or through others',
  examples: [
    ['strata rdeps libgreet', 'components whose build needs libgreet, and through which requirement'],
    ['strata rdeps libgreet --depth 1 --json', 'only direct reverse dependencies, as JSON'],
  ],
  text: rdepsText,
});
