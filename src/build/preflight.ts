/**
 * What stops a build before any job runs: a dependency cycle among the jobs
 * to build, or a BuildRequires nothing provides. Both are known from the graph,
 * so a user learns of them at once, with the component and requirement named,
 * instead of after the sandboxes have run (rpm's own check in the job stays as
 * the backstop for anything the graph could not see).
 */
import type { Arch } from '../config/model.js';
import { assertAcyclic } from '../graph/diagnostics.js';
import type { BuildGraph } from '../graph/model.js';
import { StrataError, StrataErrors } from '../util/errors.js';
import type { PlannedJob } from './plan.js';

export function refuseUnbuildable(jobs: readonly PlannedJob[], graphs: ReadonlyMap<Arch, BuildGraph>, options: { keepGoing: boolean }): void {
  const errors: StrataError[] = [];
  for (const [arch, graph] of [...graphs].sort(([a], [b]) => a.localeCompare(b))) {
    const planned = new Set(jobs.filter((job) => job.arch === arch).map((job) => job.component));
    const cycles = (graph.cycleDetails ?? []).filter((cycle) => cycle.components.some((component) => planned.has(component)));
    try {
      assertAcyclic({ ...graph, cycleDetails: cycles });
    } catch (error) {
      if (!(error instanceof StrataErrors)) throw error;
      errors.push(...error.errors);
    }
    // With --keep-going the others still build; rpm then fails this job with its own message.
    if (options.keepGoing) continue;
    for (const missing of graph.unresolved.filter((u) => planned.has(u.component))) {
      errors.push(
        new StrataError(`BuildRequires '${missing.requirement}' (${arch}) is provided by no component and not by the build root`, {
          component: missing.component,
          details: missing.candidates.length > 0 ? [`nearest: ${missing.candidates.join(', ')}`] : [],
          hint: 'add the component that provides it, list it in [build.build-root] provides, or drop it with an overlay; --keep-going builds the rest',
        }),
      );
    }
  }
  if (errors.length > 0) throw new StrataErrors(errors);
}
