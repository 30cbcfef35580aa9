/**
 * The registry of executor backends. Local sandboxes are built in; other
 * backends (the NATS farm) register themselves by name, and `[build] sandbox`
 * or `--executor` pick one.
 */
import { StrataError } from '../../util/errors.js';
import { didYouMean } from '../../util/suggest.js';
import type { Executor, ExecutorFactory, ExecutorOptions } from '../executor.js';
import { createBubblewrapExecutor } from './bubblewrap.js';
import { createPodmanExecutor } from './podman.js';

const factories = new Map<string, ExecutorFactory>([
  ['bubblewrap', createBubblewrapExecutor],
  ['podman', createPodmanExecutor],
]);

export function registerExecutor(name: string, factory: ExecutorFactory): void {
  factories.set(name, factory);
}

export function executorNames(): string[] {
  return [...factories.keys()].sort();
}

export function createExecutor(name: string, options: ExecutorOptions): Executor {
  const factory = factories.get(name);
  if (!factory) {
    throw new StrataError(`unknown executor '${name}'${didYouMean(name, factories.keys())}`, {
      kind: 'usage',
      hint: `choose one of: ${executorNames().join(', ')}`,
    });
  }
  return factory(options);
}
