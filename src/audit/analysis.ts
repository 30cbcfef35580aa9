/**
 * The earlier stages as the audit commands need them: components rendered
 * once, then spec facts and the build graph per arch. The audit commands only
 * read these results; they never change what the stages produce.
 */
import type { Arch, DistroModel } from '../config/model.js';
import { buildGraph } from '../graph/build-graph.js';
import type { RenderedComponent } from '../overlays/model.js';
import { renderComponents } from '../overlays/render.js';
import { evaluateSpecs } from '../spec/evaluate.js';
import { StrataError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { ArchAnalysis } from './affected.js';

export interface Analysis {
  rendered: RenderedComponent[];
  arches: Partial<Record<Arch, ArchAnalysis | { error: string }>>;
}

function message(error: unknown): string {
  return error instanceof StrataError || error instanceof Error ? error.message : String(error);
}

/**
 * Renders every component and computes facts and graph for each arch. A
 * stage that fails on an arch is recorded as that arch's error (callers
 * report it and fall back to a safe answer) instead of failing the command.
 */
export async function analyse(model: DistroModel, arches: Arch[], log: Logger, signal?: AbortSignal): Promise<Analysis> {
  let rendered: RenderedComponent[];
  try {
    rendered = await renderComponents(model);
  } catch (error) {
    const reason = `overlays could not be rendered: ${message(error)}`;
    return { rendered: [], arches: Object.fromEntries(arches.map((arch) => [arch, { error: reason }])) };
  }
  const result: Analysis = { rendered, arches: {} };
  for (const arch of arches) {
    try {
      const { facts } = await evaluateSpecs(model, rendered, arch, { log, signal });
      result.arches[arch] = { facts, graph: buildGraph(model, facts, arch) };
    } catch (error) {
      if (error instanceof StrataError && error.kind === 'interrupted') throw error;
      result.arches[arch] = { error: message(error) };
    }
  }
  return result;
}
