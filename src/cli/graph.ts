import type { Arch } from '../config/model.js';
import type { BuildGraph } from '../graph/model.js';
import type { CommandContext } from './command.js';
import { archOption, defineCommand } from './command.js';
import { loadModel } from './project.js';
import { renderComponents } from '../overlays/render.js';
import { evaluateSpecs, evaluationErrors, type EvaluateResult } from '../spec/evaluate.js';
import { hostArch } from '../spec/macro-context.js';
import { buildGraph } from '../graph/build-graph.js';
import { neighbourhood, toDot, toMermaid, type Direction } from '../graph/export.js';
import { cycleBreakSnippet } from '../graph/diagnostics.js';
import { StrataError, renderError, usageError } from '../util/errors.js';
import { didYouMean } from '../util/suggest.js';

export interface LoadedGraph {
  graph: BuildGraph;
  evaluation: EvaluateResult;
  /** Graph stats plus evaluation stats: what `--json` reports as `stats`. */
  stats: Record<string, number>;
}

/** The project's build graph for one arch (every component rendered and evaluated; specs that fail are reported, not fatal). */
export async function loadGraph(context: CommandContext, arch: Arch | undefined): Promise<LoadedGraph> {
  const model = await loadModel(context);
  const target = arch ?? (model.distro.arches.includes(hostArch()) ? hostArch() : model.distro.arches[0]!);
  const started = performance.now();
  const rendered = await renderComponents(model);
  const evaluation = await evaluateSpecs(model, rendered, target, { log: context.log, allowFailures: true });
  const graph = buildGraph(model, evaluation.facts, target);
  for (const error of evaluationErrors(evaluation.failures, model).errors) context.log.warn(renderError(error));
  for (const warning of graph.warnings ?? []) context.log.warn(warning);
  const stats = {
    ...graph.stats,
    specs: evaluation.stats.specs,
    specsFailed: evaluation.failures.length,
    evaluated: evaluation.stats.evaluated,
    cacheHits: evaluation.stats.cacheHits,
    evaluationSeconds: round(evaluation.stats.seconds),
    seconds: round((performance.now() - started) / 1000),
  };
  return { graph, evaluation, stats };
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

/** The `--json` document of a graph (shared by graph, deps and rdeps). */
export function graphJson(loaded: LoadedGraph, graph: BuildGraph = loaded.graph): Record<string, unknown> {
  return {
    arch: graph.arch,
    components: graph.components,
    edges: graph.edges,
    cycles: graph.cycles,
    cycleDetails: graph.cycleDetails ?? [],
    stronglyConnected: graph.stronglyConnected ?? [],
    unresolved: graph.unresolved,
    skipped: graph.skipped ?? [],
    failures: loaded.evaluation.failures,
    warnings: graph.warnings ?? [],
    stats: loaded.stats,
  };
}

/** Components named on the command line must exist; a typo gets a suggestion. */
export function checkComponents(graph: BuildGraph, names: string[]): void {
  const known = graph.components.map((c) => c.name);
  for (const name of names) {
    if (known.includes(name)) continue;
    const skipped = graph.skipped?.find((s) => s.component === name);
    if (skipped) throw new StrataError(`component ${name} is not built for ${graph.arch} (${skipped.reason})`, { kind: 'input', hint: 'pick another --arch' });
    throw usageError(`no component named '${name}'${didYouMean(name, known)}`, 'strata graph lists every component');
  }
}

/** Problems shown under any text view: cycles with their paths, unresolved requirements with candidates. */
export function problemLines(graph: BuildGraph): string[] {
  const lines: string[] = [];
  for (const cycle of graph.cycleDetails ?? []) {
    lines.push(`cycle: ${cycle.text}`);
  }
  const first = graph.cycleDetails?.[0];
  if (first) {
    const last = first.steps[first.steps.length - 1]!;
    lines.push('  builds refuse to start until each cycle is broken in toolkit.config.toml, for example:');
    for (const line of cycleBreakSnippet(last.from, last.via)) lines.push(`    ${line}`);
  }
  for (const u of graph.unresolved) {
    lines.push(`unresolved: ${u.component} needs ${u.requirement}${u.candidates.length > 0 ? `; nearest: ${u.candidates.join(', ')}` : ''}`);
  }
  return lines;
}

function textView(loaded: LoadedGraph, graph: BuildGraph): string {
  const lines: string[] = [];
  const needs = new Map<string, string[]>();
  for (const e of graph.edges) needs.set(e.from, [...(needs.get(e.from) ?? []), `  → ${e.to}  via ${e.via}`]);
  for (const c of graph.components) lines.push(`${c.name} ${c.evr}${c.noarch ? ' (noarch)' : ''}`, ...(needs.get(c.name) ?? []));
  lines.push(...problemLines(graph));
  const s = loaded.stats;
  lines.push(
    `${graph.arch}: ${s.components} components, ${s.edges} edges, ${s.cycles} cycles, ${s.unresolved} unresolved of ${s.buildRequires} BuildRequires; ` +
      `${s.specs} specs (${s.cacheHits} cached, ${s.specsFailed} failed) in ${s.seconds} s`,
  );
  return lines.join('\n');
}

interface GraphArgs {
  components: string[];
  arch?: Arch;
  format: 'text' | 'json' | 'dot' | 'mermaid';
  deps: boolean;
  rdeps: boolean;
  depth?: number;
}

interface NeighbourhoodArgs {
  component: string;
  arch?: Arch;
  depth?: number;
}

/** `strata deps` and `strata rdeps`: one component's neighbourhood in one direction, up to a depth. */
export function neighbourhoodCommand(
  direction: Direction,
  about: { describe: string; examples: Array<[string, string]>; text: (graph: BuildGraph, component: string, depth: number) => string },
) {
  return defineCommand<NeighbourhoodArgs>({
    command: `${direction} <component>`,
    describe: about.describe,
    examples: about.examples,
    builder: (yargs) =>
      archOption(yargs)
        .positional('component', { type: 'string', demandOption: true, describe: 'component name' })
        .option('depth', { type: 'number', requiresArg: true, describe: 'how many steps to follow (default: all)' }) as never,
    run: async (args, context) => {
      const loaded = await loadGraph(context, args.arch);
      checkComponents(loaded.graph, [args.component]);
      const depth = args.depth ?? Infinity;
      const sub = neighbourhood(loaded.graph, [args.component], direction, depth);
      return {
        json: { component: args.component, ...graphJson(loaded, sub) },
        text: about.text(loaded.graph, args.component, depth),
        exitCode: loaded.evaluation.failures.length > 0 ? 1 : 0,
      };
    },
  });
}

export default defineCommand<GraphArgs>({
  command: 'graph [components..]',
  describe: 'the build graph: which component needs which, through which BuildRequires; cycles and unresolved requirements',
  examples: [
    ['strata graph', 'every component and edge for the host arch, with cycles and unresolved requirements'],
    ['strata graph --arch aarch64 --json', 'the aarch64 graph as one JSON document (components, edges, cycles, unresolved, stats)'],
    ['strata graph --format dot | dot -Tsvg > graph.svg', 'draw the graph with Graphviz'],
    ['strata graph greet --deps --depth 1 --format mermaid', 'what greet needs directly, as a Mermaid diagram'],
    ['strata graph libgreet --rdeps', 'everything that needs libgreet, directly or not'],
  ],
  builder: (yargs) =>
    archOption(yargs)
      .positional('components', { type: 'string', array: true, default: [] as string[], describe: 'show only these components and their neighbourhood' })
      .option('format', { choices: ['text', 'json', 'dot', 'mermaid'] as const, default: 'text' as const, describe: 'output format (--json implies json)' })
      .option('deps', { type: 'boolean', default: false, describe: 'with COMPONENTs: include what they need' })
      .option('rdeps', { type: 'boolean', default: false, describe: 'with COMPONENTs: include what needs them' })
      .option('depth', { type: 'number', requiresArg: true, describe: 'with --deps/--rdeps: how many steps (default: all)' }) as never,
  run: async (args, context) => {
    const names = (args.components ?? []).map(String);
    if ((args.deps || args.rdeps || args.depth !== undefined) && names.length === 0) throw usageError('--deps, --rdeps and --depth need COMPONENT names');
    if (args.deps && args.rdeps) throw usageError('choose one of --deps and --rdeps');
    if (args.depth !== undefined && (!Number.isInteger(args.depth) || args.depth < 0)) throw usageError('--depth takes a whole number ≥ 0');
    const loaded = await loadGraph(context, args.arch);
    let graph = loaded.graph;
    if (names.length > 0) {
      checkComponents(graph, names);
      const direction: Direction = args.rdeps ? 'rdeps' : 'deps';
      // Without --deps/--rdeps: the named components and what they need directly.
      graph = neighbourhood(graph, names, direction, args.deps || args.rdeps ? (args.depth ?? Infinity) : 1);
    }
    const json = graphJson(loaded, graph);
    const exitCode = loaded.evaluation.failures.length > 0 ? 1 : 0;
    const format = context.json ? 'json' : args.format;
    const text =
      format === 'json' ? JSON.stringify(json, null, 2) : format === 'dot' ? toDot(graph) : format === 'mermaid' ? toMermaid(graph) : textView(loaded, graph);
    return { json, text, exitCode };
  },
});
