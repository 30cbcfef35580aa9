import type { Arch, DistroModel } from '../config/model.js';
import type { SpecFacts } from '../spec/model.js';
import type { BuildGraph } from './model.js';
import { StrataError } from '../util/errors.js';

// PLACEHOLDER: replaced by the graph stage (issue 4).
export function buildGraph(_model: DistroModel, _facts: SpecFacts[], _arch: Arch): BuildGraph {
  throw new StrataError('the build graph is not implemented yet', { kind: 'build' });
}
