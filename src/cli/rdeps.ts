import type { Arch } from '../config/model.js';
import type { BuildGraph } from '../graph/model.js';
import { archOption, defineCommand } from './command.js';
import { checkComponents, graphJson, loadGraph } from './graph.js';
import { neighbourhood, reachable } from '../graph/export.js';

interface RdepsArgs {
  component: string;
  arch?: Arch;
  depth?: number;
}

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

export default defineCommand<RdepsArgs>({
  command: 'rdeps <component>',
  describe: 'what needs a component: who BuildRequires something it provides, directly or through others',
  examples: [
    ['strata rdeps libgreet', 'components whose build needs libgreet, and through which requirement'],
    ['strata rdeps libgreet --depth 1 --json', 'only direct reverse dependencies, as JSON'],
  ],
  builder: (yargs) =>
    archOption(yargs)
      .positional('component', { type: 'string', demandOption: true, describe: 'component name' })
      .option('depth', { type: 'number', requiresArg: true, describe: 'how many steps to follow (default: all)' }) as never,
  run: async (args, context) => {
    const loaded = await loadGraph(context, args.arch);
    checkComponents(loaded.graph, [args.component]);
    const depth = args.depth ?? Infinity;
    const sub = neighbourhood(loaded.graph, [args.component], 'rdeps', depth);
    return {
      json: { component: args.component, ...graphJson(loaded, sub) },
      text: rdepsText(loaded.graph, args.component, depth),
      exitCode: loaded.evaluation.failures.length > 0 ? 1 : 0,
    };
  },
});
