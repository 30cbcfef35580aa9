/** Each image's predicted run-time closure, for the audit questions (affected, explain). */
import type { Arch, DistroModel } from '../config/model.js';
import { packagesFor } from '../compose/image.js';
import type { SpecFacts } from '../spec/model.js';
import { closure, providerIndex } from '../graph/runtime-closure.js';

/** For every image: each package of its closure on `arch`, with the component that builds it. */
export function imageClosures(model: DistroModel, facts: SpecFacts[], arch: Arch): Map<string, Map<string, string>> {
  const index = providerIndex(facts.filter((fact) => fact.arch === arch));
  const result = new Map<string, Map<string, string>>();
  for (const image of Object.keys(model.images).sort()) {
    const packages = new Map<string, string>();
    for (const pkg of closure(index, packagesFor(model.images[image]!, arch), model.graph.providers).keys()) {
      packages.set(pkg, index.packages.get(pkg)!.component);
    }
    result.set(image, packages);
  }
  return result;
}
