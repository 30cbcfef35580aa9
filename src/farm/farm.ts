/**
 * The farm's server-side state, created on first use by whichever side (a
 * coordinator or a worker) connects first, and opened as is afterwards: a work
 * queue stream of jobs, a stream of results, the blob object store and the
 * worker heartbeat bucket, all under one namespace.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { StrataError } from '../util/errors.js';
import { BlobStore } from './object-store.js';
import { retryTransient } from './transient.js';
import { parseHeartbeat, type WorkerHeartbeat } from './protocol.js';
import { queueConsumer, queueFilter, type FarmNames, type QueueId } from './subjects.js';

export interface FarmLayout {
  /** Stream replicas: 1 on a single server, 3 on a three-node cluster. */
  replicas: number;
  /** How long results and blobs are kept (a coordinator rerun within it reuses them). */
  retentionMs: number;
  /** How long a worker's heartbeat stays visible without being renewed. */
  heartbeatTtlMs: number;
}

export const DEFAULT_LAYOUT: FarmLayout = {
  replicas: 1,
  retentionMs: 7 * 24 * 3600 * 1000,
  heartbeatTtlMs: 30_000,
};

export interface Farm {
  nc: NatsConnection;
  jsm: JetStreamManager;
  js: JetStreamClient;
  names: FarmNames;
  blobs: BlobStore;
  workers: KV;
}

const ms = (value: number): number => value * 1_000_000;

/** JetStream's "stream name already in use" (not among the client's named codes). */
const STREAM_NAME_IN_USE = 10058;

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
    try {
      await jsm.streams.add(config);
    } catch (raced) {
      // Another process created it between our look and our add: fine.
      if (!(raced instanceof JetStreamApiError && raced.code === STREAM_NAME_IN_USE)) throw raced;
    }
  }
}

/**
 * Opens the farm, creating what is missing; `create: false` (for read-only
 * commands) fails instead. Retried while the cluster has no leader to answer
 * (a node was just lost), so a worker or build started then waits for the
 * election instead of failing.
 */
export async function openFarm(nc: NatsConnection, names: FarmNames, layout: FarmLayout = DEFAULT_LAYOUT, create = true): Promise<Farm> {
  // The server says in its greeting whether it runs JetStream: no reason to wait for an election then.
  if (nc.info !== undefined && !nc.info.jetstream) {
    throw new StrataError(`the NATS server at ${nc.getServer()} does not run JetStream`, { kind: 'input', hint: JETSTREAM_HINT });
  }
  try {
    return await retryTransient(() => openFarmOnce(nc, names, layout, create));
  } catch (error) {
    if (!(error instanceof Error && error.name === 'JetStreamNotEnabled')) throw error;
    throw new StrataError(`JetStream on ${nc.getServer()} did not answer (${error.message}), even after waiting for a leader election`, { kind: 'build', hint: JETSTREAM_HINT });
  }
}

const JETSTREAM_HINT = 'the farm needs nats-server with JetStream: start it with -js or give it a jetstream block (see deploy/nats/); on a cluster, check that a majority of its nodes are up';

async function openFarmOnce(nc: NatsConnection, names: FarmNames, layout: FarmLayout, create: boolean): Promise<Farm> {
  const jsm = await jetstreamManager(nc);
  if (!create) {
    try {
      await jsm.streams.info(names.jobStream);
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
      throw new StrataError(`there is no farm '${names.namespace}' on this server yet`, {
        kind: 'input',
        hint: 'it is created when the first worker or build connects; check --namespace (NAME_VERSION of the distro)',
      });
    }
    const blobs = await BlobStore.open(nc, names, { replicas: layout.replicas, ttlMs: layout.retentionMs }, false);
    const workers = await new Kvm(nc).open(names.workerBucket);
    return { nc, jsm, js: jsm.jetstream(), names, blobs, workers };
  }
  await ensureStream(jsm, {
    name: names.jobStream,
    subjects: [names.allJobs],
    // Each job message is removed once a worker acks it: the stream is the queue.
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: layout.replicas,
    // A coordinator that retries a publish after a lost ack must not queue the job twice.
    duplicate_window: ms(120_000),
    discard: DiscardPolicy.Old,
  });
  await ensureStream(jsm, {
    name: names.resultStream,
    subjects: [names.allResults],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: layout.replicas,
    // The last result per job key is what a rerun looks up.
    max_msgs_per_subject: 1,
    max_age: ms(layout.retentionMs),
  });
  const blobs = await BlobStore.open(nc, names, { replicas: layout.replicas, ttlMs: layout.retentionMs });
  const workers = await new Kvm(nc).create(names.workerBucket, {
    ttl: layout.heartbeatTtlMs,
    history: 1,
    replicas: layout.replicas,
    storage: StorageType.File,
    description: `strata build farm workers (${names.namespace})`,
  });
  return { nc, jsm, js: jsm.jetstream(), names, blobs, workers };
}

/**
 * Attempts of one JetStream publish (the client's `retries`, with its own
 * backoff of up to 5 s between them) when no server answers for the stream:
 * on a cluster that is what the seconds after losing the stream's leader look
 * like, until the other replicas elect a new one. Only safe where a repeated
 * publish cannot store a message twice (a msgID within the duplicate window)
 * or where a second copy is harmless.
 */
export const PUBLISH_RETRIES = 10;

export interface QueuePolicy {
  /** A delivery not acked or marked in progress within this time goes to another worker. */
  ackWaitMs: number;
  /** Deliveries after which a job is given up (its coordinator reports it failed). */
  maxDeliver: number;
}

export const DEFAULT_QUEUE_POLICY: QueuePolicy = { ackWaitMs: 30_000, maxDeliver: 4 };

/** Creates the queue's shared consumer, or brings its policy in line with this worker's. */
export async function ensureQueueConsumer(farm: Farm, queue: QueueId, policy: QueuePolicy): Promise<string> {
  const name = queueConsumer(queue);
  const config = {
    durable_name: name,
    filter_subject: queueFilter(farm.names, queue),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ms(policy.ackWaitMs),
    max_deliver: policy.maxDeliver,
    // Pull requests of every worker slot on this queue wait at once.
    max_waiting: 4096,
    max_ack_pending: -1,
  };
  try {
    const info = await farm.jsm.consumers.info(farm.names.jobStream, name);
    if (info.config.ack_wait !== config.ack_wait || info.config.max_deliver !== config.max_deliver) {
      await farm.jsm.consumers.update(farm.names.jobStream, name, { ack_wait: config.ack_wait, max_deliver: config.max_deliver });
    }
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)) throw error;
    await farm.jsm.consumers.add(farm.names.jobStream, config);
  }
  return name;
}

/** Every worker whose heartbeat has not expired (malformed entries are skipped). */
export async function liveWorkers(farm: Farm): Promise<WorkerHeartbeat[]> {
  const out: WorkerHeartbeat[] = [];
  const keys = await farm.workers.keys();
  for await (const key of keys) {
    const entry = await farm.workers.get(key);
    if (entry === null || entry.operation !== 'PUT') continue;
    try {
      out.push(parseHeartbeat(entry.value));
    } catch {
      // A foreign or older-format entry: not a worker this version can count on.
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}
