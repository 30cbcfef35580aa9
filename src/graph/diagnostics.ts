/**
 * What stops a build from starting, as errors: each cycle with its concrete
 * path and the config that would break it. The build stage throws these; the
 * graph command only reports them.
 */
import type { BuildGraph } from './model.js';
import { StrataError, StrataErrors } from '../util/errors.js';

/** The TOML (one line each) that takes one step's requirement from outside the graph. */
export function cycleBreakSnippet(component: string, requirement: string): string[] {
  return ['[[graph.cycle-breaks]]', `component = ${JSON.stringify(component)}`, `requirement = ${JSON.stringify(requirement)}`, 'from = "bootstrap"'];
}

/** Throws one error per cycle of the graph (nothing when it has none). */
export function assertAcyclic(graph: BuildGraph): void {
  const cycles = graph.cycleDetails ?? [];
  if (cycles.length === 0) return;
  throw new StrataErrors(
    cycles.map((cycle) => {
      // Suggest breaking the last step: the requirement that closes the cycle back to its first component.
      const last = cycle.steps[cycle.steps.length - 1]!;
      return new StrataError(`build dependency cycle (${graph.arch}): ${cycle.components.join(' → ')} → ${cycle.components[0]}`, {
        component: cycle.components[0],
        details: [
          ...cycle.steps.map((s) => `${s.from} needs ${s.via}, provided by ${s.to}`),
          'break it in toolkit.config.toml, for example:',
          ...cycleBreakSnippet(last.from, last.via).map((line) => `  ${line}`),
        ],
        hint: 'from = "bootstrap" builds the provider once without the requirement; "build-root" takes it from the build root',
      });
    }),
  );
}
