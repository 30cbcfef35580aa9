import type { Arch, DistroModel } from '../config/model.js';
import type { RenderedComponent } from '../overlays/model.js';
import type { SpecFacts } from './model.js';
import type { Logger } from '../util/log.js';
import { StrataError } from '../util/errors.js';

export interface EvaluateOptions {
  log: Logger;
  signal?: AbortSignal;
}

export interface EvaluateResult {
  facts: SpecFacts[];
  stats: { specs: number; cacheHits: number; evaluated: number; seconds: number };
}

// PLACEHOLDER: replaced by the spec stage (issue 4).
export async function evaluateSpecs(_model: DistroModel, _rendered: RenderedComponent[], _arch: Arch, _options: EvaluateOptions): Promise<EvaluateResult> {
  throw new StrataError('spec evaluation is not implemented yet', { kind: 'build' });
}
