/**
 * Every name a farm uses on the NATS server, derived from one namespace (the
 * distro's name and version). Two farms (two distros, or two versions of one)
 * can share a server because none of their subjects, streams, consumers or
 * buckets overlap; account permissions can then be written per namespace
 * (`strata.<ns>.>`, `$O.strata_<ns>_blobs.>` …).
 */
import type { Arch } from '../config/model.js';
import type { BuildRootIdentity } from '../build/executor.js';
import { StrataError } from '../util/errors.js';

export interface FarmNames {
  /** The namespace token, e.g. `strata-example_1-0`. */
  namespace: string;
  /** Work-queue stream of jobs (one message per queued job). */
  jobStream: string;
  /** Stream of results, the last one per job key kept. */
  resultStream: string;
  /** Object store bucket of blobs named `sha256-<hex>`. */
  blobBucket: string;
  /** Key-value bucket of worker heartbeats, one key per worker. */
  workerBucket: string;
  /** `strata.<ns>.jobs.>`: every job subject. */
  allJobs: string;
  /** `strata.<ns>.results.>`: every result subject. */
  allResults: string;
}

/** Lower-case letters, digits and '-' only: safe in subjects, stream, consumer and bucket names. */
function token(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export function farmNamespace(distroName: string, distroVersion: string): string {
  const name = token(distroName);
  const version = token(distroVersion);
  if (name === '' || version === '') {
    throw new StrataError(`cannot derive a farm namespace from distro '${distroName}' version '${distroVersion}'`, {
      hint: 'the distro name and version need at least one letter or digit each',
    });
  }
  return `${name}_${version}`;
}

export function farmNames(namespace: string): FarmNames {
  if (!/^[a-z0-9-]+_[a-z0-9-]+$/.test(namespace)) {
    throw new StrataError(`'${namespace}' is not a farm namespace`, {
      kind: 'usage',
      hint: "a namespace is NAME_VERSION as strata derives it from [distro] (e.g. 'strata-example_1-0')",
    });
  }
  const stream = namespace.replace(/-/g, '_').toUpperCase();
  return {
    namespace,
    jobStream: `STRATA_${stream}_JOBS`,
    resultStream: `STRATA_${stream}_RESULTS`,
    blobBucket: `strata_${namespace}_blobs`,
    workerBucket: `strata_${namespace}_workers`,
    allJobs: `strata.${namespace}.jobs.>`,
    allResults: `strata.${namespace}.results.>`,
  };
}

/**
 * Which workers may take a job. A `host` build root is the machine's own
 * installed package set, so only a worker whose host has the same identity can
 * serve it; an imported root travels with the bundle as blobs, so any worker can.
 */
export function rootRoute(root: Pick<BuildRootIdentity, 'type' | 'id'>): string {
  if (root.type !== 'host') return 'imported';
  const id = token(root.id);
  if (id === '') throw new StrataError(`build root identity '${root.id}' is empty`, { kind: 'build' });
  return `host-${id.slice(0, 32)}`;
}

/** The queue a job waits in: one per arch and build-root route. */
export interface QueueId {
  arch: Arch;
  route: string;
}

export function queueKey(queue: QueueId): string {
  return `${queue.arch}.${queue.route}`;
}

/** `strata.<ns>.jobs.<arch>.<route>.<key>`: one subject per job, so a queued job can be looked up by key. */
export function jobSubject(names: FarmNames, queue: QueueId, key: string): string {
  return `strata.${names.namespace}.jobs.${queue.arch}.${queue.route}.${key}`;
}

export function queueFilter(names: FarmNames, queue: QueueId): string {
  return `strata.${names.namespace}.jobs.${queue.arch}.${queue.route}.*`;
}

/**
 * One durable consumer per queue, shared by every worker serving it: a work
 * queue stream gives each message to exactly one of them, and the consumer
 * filters never overlap.
 */
export function queueConsumer(queue: QueueId): string {
  return `workers_${queue.arch}_${queue.route}`;
}

export function resultSubject(names: FarmNames, key: string): string {
  return `strata.${names.namespace}.results.${key}`;
}

export function blobName(sha256: string): string {
  return `sha256-${sha256}`;
}
