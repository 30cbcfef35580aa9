/**
 * The `nats` executor: runs each bundle on the worker pool instead of here.
 *
 * For one job it uploads the blobs the store does not hold yet and the bundle
 * itself (canonical JSON, so its name is `bundleDigest`), publishes a small job
 * message on the queue for the bundle's arch and build root, waits for the
 * worker's result, then fetches every artifact and the log by digest, hashing
 * each again, into the request's output folder. What it returns is the same
 * JobResult a local executor returns, so the scheduler files outputs into the
 * cache, logs and repository exactly as for a local build.
 *
 * A coordinator that died and runs again loses nothing: results stay in the
 * result stream (looked up by job key before publishing), and jobs still in
 * the queue are waited for instead of published twice.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { JetStreamApiError, type ConsumerInfo, type StoredMsg } from '@nats-io/jetstream';
import pLimit from 'p-limit';
import { bundleBlobRefs, type ExecuteRequest, type Executor, type JobBundle, type JobResult, type ProbeResult } from '../build/executor.js';
import type { Logger } from '../util/log.js';
import { interrupted, StrataError } from '../util/errors.js';
import { canonicalJson, sha256Hex } from '../util/hash.js';
import { connectFarm, describeConnection, type FarmConnectionSettings } from './connection.js';
import { DEFAULT_LAYOUT, liveWorkers, openFarm, PUBLISH_RETRIES, type Farm, type FarmLayout } from './farm.js';
import { QueueGate } from './gate.js';
import { BadBlobError, BlobUploader } from './object-store.js';
import { chooseInline, inlineLimits, packInline, unpackInline, type InlineLimits } from './inline.js';
import { encode, parseResultMessage, type BuiltResult, type InlineBlob, type JobMessage, type ResultMessage, type WorkerHeartbeat } from './protocol.js';
import { farmNames, jobSubject, queueConsumer, queueKey, resultSubject, rootRoute, type QueueId } from './subjects.js';

export interface CoordinatorOptions {
  connection: FarmConnectionSettings;
  namespace: string;
  log: Logger;
  layout?: FarmLayout;
  /** Times one job is published again after a worker found an input bad or its outputs failed verification. */
  maxRepublish?: number;
  /** How often the worker list (and so each queue's window) is refreshed. */
  workerPollMs?: number;
  /** Jobs kept queued beyond the live worker slots (see farmWindow). */
  queueAhead?: number;
  /** How long to keep trying to reach a lost server before failing the running jobs. */
  reconnectSeconds?: number;
  /** Bundles up to this size travel inside the job message instead of through the store (default INLINE_BUNDLE_BYTES). */
  inlineBundleBytes?: number;
}

/** Where one job's time went, for progress, --explain and the benchmark. */
export interface FarmJobRecord {
  job: string;
  key: string;
  worker: string | null;
  /** True when a result stored by an earlier run was used and nothing was published. */
  reused: boolean;
  publishes: number;
  submittedAt: number;
  publishedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  receivedAt: number;
  fetchMs: number;
  buildMs: number;
  uploadMs: number;
}

/**
 * How one publication of a job ended: a worker's result, the queue giving up
 * on it (its advisory), its message found stranded in the queue (see
 * sweepStranded), or the farm going away.
 */
type Ending = ResultMessage | { outcome: 'exhausted'; deliveries: number } | { outcome: 'stranded' } | { outcome: 'disconnected' };

interface Pending {
  bundle: string;
  deliver: (ending: Ending) => void;
  /** The job's message in the queue while it is waited on. */
  queued?: { queue: QueueId; seq: number };
}

interface Session {
  farm: Farm;
  uploader: BlobUploader;
  subscriptions: Subscription[];
  poll: NodeJS.Timeout;
  /**
   * What earlier runs left, read once when connecting (one paged request per
   * stream instead of two look-ups per job): subjects of jobs still queued and
   * of stored results. Anything newer reaches us through the subscription.
   */
  queuedAtStart: Set<string>;
  resultsAtStart: Set<string>;
  /** What may travel inside a job message on this server. */
  limits: InlineLimits;
}

/**
 * Most bundles are a few KiB of JSON: sent inside the job message (still
 * verified against their digest) they save the worker a store look-up and
 * fetch, and the coordinator an upload, per job.
 */
export const INLINE_BUNDLE_BYTES = 64 * 1024;

const ADVISORY_MAX_DELIVERIES = '$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES';

export class FarmCoordinator implements Executor {
  readonly name = 'nats';
  private session: Promise<Session> | null = null;
  private readonly pending = new Map<string, Pending>();
  /** Job stream sequence → job key, to tie a max-deliveries advisory to its job. */
  private readonly bySequence = new Map<number, string>();
  private workers: WorkerHeartbeat[] = [];
  private readonly gate: QueueGate;
  /** Blob uploads and result look-ups in parallel, bounded. */
  private readonly io = pLimit(16);
  private readonly records: FarmJobRecord[] = [];
  private readonly warnedIdle = new Set<string>();
  private readonly maxRepublish: number;
  private readonly runId = randomBytes(6).toString('hex');

  constructor(private readonly options: CoordinatorOptions) {
    this.maxRepublish = options.maxRepublish ?? 2;
    this.gate = new QueueGate((queue) => this.slotsFor(queue), options.queueAhead);
  }

  /** Connects on first use, so creating the executor costs nothing when every job is a cache hit. */
  private open(): Promise<Session> {
    this.session ??= this.connect().catch((error: unknown) => {
      this.session = null;
      throw error;
    });
    return this.session;
  }

  private async connect(): Promise<Session> {
    const { log } = this.options;
    const nc = await connectFarm(this.options.connection, 'strata coordinator', this.options.reconnectSeconds ?? 120);
    const farm = await openFarm(nc, farmNames(this.options.namespace), this.options.layout ?? DEFAULT_LAYOUT);
    log.verbose(`farm: connected to ${describeConnection(this.options.connection)}, namespace ${farm.names.namespace}`);
    // Subscribed (and flushed) before any job is published, so no result can slip past.
    const results = nc.subscribe(farm.names.allResults, {
      callback: (error, msg) => {
        if (!error) this.onResult(msg);
      },
    });
    const advisories = nc.subscribe(`${ADVISORY_MAX_DELIVERIES}.${farm.names.jobStream}.*`, {
      callback: (error, msg) => {
        if (!error) this.onMaxDeliveries(msg);
      },
    });
    await nc.flush();
    const subjects = async (stream: string, filter: string): Promise<Set<string>> =>
      new Set(Object.keys((await farm.jsm.streams.info(stream, { subjects_filter: filter })).state.subjects ?? {}));
    const [queuedAtStart, resultsAtStart] = await Promise.all([
      subjects(farm.names.jobStream, farm.names.allJobs),
      subjects(farm.names.resultStream, farm.names.allResults),
    ]);
    void this.watchConnection(farm);
    this.workers = await liveWorkers(farm);
    let sweeping = false;
    const poll = setInterval(() => {
      liveWorkers(farm)
        .then((workers) => {
          this.workers = workers;
          this.gate.pumpAll();
        })
        .catch(() => undefined);
      if (sweeping) return;
      sweeping = true;
      this.sweepStranded(farm)
        .catch(() => undefined)
        .finally(() => (sweeping = false));
    }, this.options.workerPollMs ?? 3000);
    poll.unref();
    const limits = inlineLimits(nc.info?.max_payload ?? 1024 * 1024);
    return { farm, uploader: new BlobUploader(farm.blobs), subscriptions: [results, advisories], poll, queuedAtStart, resultsAtStart, limits };
  }

  /**
   * After a reconnect, results published while we were away are in the stream:
   * look them up. When the client gives up reconnecting, every waiting job ends.
   */
  private async watchConnection(farm: Farm): Promise<void> {
    for await (const status of farm.nc.status()) {
      if (status.type === 'disconnect') this.options.log.warn('farm: lost the connection to the NATS server; reconnecting');
      if (status.type !== 'reconnect') continue;
      this.options.log.warn('farm: reconnected to the NATS server; checking for results missed meanwhile');
      for (const key of this.pending.keys()) {
        const stored = await this.storedResult(farm, key).catch(() => null);
        if (stored) this.deliver(stored);
      }
    }
    await farm.nc.closed();
    this.session = null;
    for (const pending of this.pending.values()) pending.deliver({ outcome: 'disconnected' });
  }

  private slotsFor(queue: string): number {
    let slots = 0;
    for (const worker of this.workers) {
      if (worker.draining) continue;
      if (worker.arches.some((arch) => worker.routes.some((route) => queueKey({ arch, route }) === queue))) slots += worker.slots;
    }
    return slots;
  }

  private onResult(msg: Msg): void {
    let result: ResultMessage;
    try {
      result = parseResultMessage(msg.data);
    } catch (error) {
      this.options.log.warn(`farm: ignored a result: ${(error as Error).message}`);
      return;
    }
    this.deliver(result);
  }

  private deliver(result: ResultMessage): void {
    const pending = this.pending.get(result.key);
    // A result for another bundle under the same key (an older strata) is not ours.
    if (pending && pending.bundle === result.bundle) pending.deliver(result);
  }

  private onMaxDeliveries(msg: Msg): void {
    try {
      const advisory = JSON.parse(new TextDecoder().decode(msg.data)) as { stream_seq?: number; deliveries?: number };
      const key = advisory.stream_seq === undefined ? undefined : this.bySequence.get(advisory.stream_seq);
      if (key !== undefined) this.pending.get(key)?.deliver({ outcome: 'exhausted', deliveries: advisory.deliveries ?? 0 });
    } catch {
      // Not an advisory we can read: the job's own timeout still applies.
    }
  }

  private async storedResult(farm: Farm, key: string): Promise<ResultMessage | null> {
    let stored: StoredMsg | null;
    try {
      stored = await farm.jsm.streams.getMessage(farm.names.resultStream, { last_by_subj: resultSubject(farm.names, key) });
    } catch (error) {
      if (error instanceof JetStreamApiError) return null;
      throw error;
    }
    if (stored === null) return null;
    try {
      return parseResultMessage(stored.data);
    } catch {
      return null;
    }
  }

  async run(request: ExecuteRequest): Promise<JobResult> {
    const { bundle, signal } = request;
    if (signal?.aborted) throw interrupted();
    const session = await this.open();
    const { farm } = session;
    // bundleDigest(bundle) by definition, without serialising the bundle twice.
    const bundleBytes = new TextEncoder().encode(canonicalJson(bundle));
    const digest = sha256Hex(bundleBytes);
    if (this.pending.has(bundle.key)) throw new StrataError(`job ${bundle.job} (key ${bundle.key}) is already running on the farm`, { kind: 'build' });
    const queue: QueueId = { arch: bundle.arch, route: rootRoute(bundle.buildRoot) };
    const inline = bundleBytes.length <= Math.min(this.options.inlineBundleBytes ?? INLINE_BUNDLE_BYTES, session.limits.budgetBytes);
    const record: FarmJobRecord = {
      job: bundle.job, key: bundle.key, worker: null, reused: false, publishes: 0, submittedAt: Date.now(),
      publishedAt: null, startedAt: null, finishedAt: null, receivedAt: 0, fetchMs: 0, buildMs: 0, uploadMs: 0,
    };

    // Endings arrive through `pending` from the moment it is registered, before
    // the look-up below, so a result stored meanwhile is seen one way or the other.
    let endings: Ending[] = [];
    let wake: (() => void) | null = null;
    const pending: Pending = {
      bundle: digest,
      deliver: (ending) => {
        endings.push(ending);
        wake?.();
      },
    };
    this.pending.set(bundle.key, pending);
    const nextEnding = (): Promise<Ending> =>
      new Promise<Ending>((resolve, reject) => {
        const check = (): void => {
          if (signal?.aborted) return reject(interrupted());
          const ending = endings.shift();
          if (ending) {
            wake = null;
            resolve(ending);
          }
        };
        wake = check;
        signal?.addEventListener('abort', check, { once: true });
        check();
      });

    try {
      const stored = session.resultsAtStart.has(resultSubject(farm.names, bundle.key)) ? await this.io(() => this.storedResult(farm, bundle.key)) : null;
      if (stored?.outcome === 'built' && stored.bundle === digest && stored.result.status === 'succeeded') {
        const reused = await this.collect(session, request, stored, record, true);
        if (reused) return reused;
      }
      for (let publish = 0; ; publish++) {
        endings = [];
        const byValue = await this.upload(session, request, bundleBytes, digest, inline);
        await this.gate.acquire(queueKey(queue), signal);
        let ending: Ending;
        try {
          if (this.slotsFor(queueKey(queue)) === 0 && !this.warnedIdle.has(queueKey(queue))) {
            this.warnedIdle.add(queueKey(queue));
            this.options.log.warn(`farm: no live worker serves ${queue.arch} jobs for build root ${queue.route}; jobs wait in the queue until one starts`);
          }
          const seq = await this.publish(session, bundle, queue, digest, inline ? bundleBytes : bundleBytes.length, byValue, publish, record);
          pending.queued = { queue, seq };
          ending = await nextEnding();
        } finally {
          // Whatever the sweep finds from here on is about a publication that has ended.
          pending.queued = undefined;
          this.gate.release(queueKey(queue));
        }
        const verdict = await this.judge(session, request, ending, record);
        if (verdict !== 'republish') return verdict;
        if (publish >= this.maxRepublish) {
          return failedResult(bundle, `the farm could not deliver verified inputs or outputs, or keep the job queued, after ${publish + 1} attempts`);
        }
      }
    } finally {
      this.pending.delete(bundle.key);
      this.records.push(record);
    }
  }

  /** Puts the job's inputs where a worker finds them: small ones are returned to send by value, the rest go to the store. */
  private async upload(session: Session, request: ExecuteRequest, bundleBytes: Uint8Array, digest: string, inline: boolean): Promise<InlineBlob[]> {
    const { bundle } = request;
    const pathOf = (sha: string): string => {
      const path = request.blobs.get(sha);
      if (path === undefined) throw new StrataError(`internal: blob ${sha} of ${bundle.job} has no local path`, { kind: 'build', job: bundle.job });
      return path;
    };
    const { inline: byValue, stored } = chooseInline(bundleBlobRefs(bundle), session.limits);
    const [values] = await Promise.all([
      Promise.all(
        byValue.map(({ sha256 }) => {
          const bytes = readFileSync(pathOf(sha256));
          if (sha256Hex(bytes) !== sha256) throw new StrataError(`${pathOf(sha256)} changed after its digest was taken (expected sha256 ${sha256})`, { kind: 'build', job: bundle.job });
          return packInline(sha256, bytes);
        }),
      ),
      Promise.all(stored.map(({ sha256 }) => this.io(() => session.uploader.ensureFile(sha256, pathOf(sha256))))),
    ]);
    if (!inline) {
      await this.io(async () => {
        if (!(await session.farm.blobs.has(digest, bundleBytes.length))) await session.farm.blobs.putBytes(bundleBytes);
      });
    }
    return values;
  }

  /** `content`: the bundle's bytes when they travel inside the message, else just their size. Returns the message's stream sequence. */
  private async publish(session: Session, bundle: JobBundle, queue: QueueId, digest: string, content: Uint8Array | number, byValue: InlineBlob[], publish: number, record: FarmJobRecord): Promise<number> {
    const { farm } = session;
    const subject = jobSubject(farm.names, queue, bundle.key);
    if (publish === 0 && session.queuedAtStart.has(subject)) {
      // Left in the queue by an earlier coordinator: wait for it rather than build it twice.
      const queued = await farm.jsm.streams.getMessage(farm.names.jobStream, { last_by_subj: subject }).catch(() => null);
      if (queued !== null) {
        this.bySequence.set(queued.seq, bundle.key);
        this.options.log.verbose(`farm: ${bundle.job} is already queued (from an earlier run); waiting for it`);
        return queued.seq;
      }
    }
    const message: JobMessage = {
      format: 'strata-farm-job/1',
      job: bundle.job,
      key: bundle.key,
      arch: queue.arch,
      route: queue.route,
      bundle:
        typeof content === 'number'
          ? { sha256: digest, size: content }
          : { sha256: digest, size: content.length, inline: new TextDecoder().decode(content) },
      ...(byValue.length > 0 ? { blobs: byValue } : {}),
      publishedAt: Date.now(),
    };
    // The id lets the server drop a copy the client re-sent after a lost ack; it
    // is unique per run, so a rerun within the server's duplicate window (two
    // minutes) is not mistaken for such a copy.
    const ack = await farm.js.publish(subject, encode(message), { msgID: `${digest}.${this.runId}.${publish}`, retries: PUBLISH_RETRIES });
    this.bySequence.set(ack.seq, bundle.key);
    record.publishes++;
    record.publishedAt = message.publishedAt;
    this.options.log.verbose(`farm: published ${bundle.job}${publish > 0 ? ` (again, attempt ${publish + 1})` : ''}`);
    return ack.seq;
  }

  /** Turns a delivery's ending into the job's result, or 'republish' when another attempt can fix it. */
  private async judge(session: Session, request: ExecuteRequest, ending: Ending, record: FarmJobRecord): Promise<JobResult | 'republish'> {
    const { bundle } = request;
    const { log } = this.options;
    switch (ending.outcome) {
      case 'disconnected':
        throw new StrataError(`lost the connection to the build farm while ${bundle.job} was queued or running`, {
          kind: 'build',
          job: bundle.job,
          hint: 'run the build again once the server is back: finished jobs are reused, queued ones are not built twice',
        });
      case 'exhausted':
        await this.dropQueued(session.farm, bundle);
        return failedResult(bundle, `no worker finished the job in ${ending.deliveries} deliveries (each worker that took it died or gave it back)`);
      case 'stranded':
        // Nobody heard the advisory, so this run never reported the job failed: it gets a fresh set of deliveries.
        log.warn(`farm: ${bundle.job} is still queued but will not be delivered again (it ran out of deliveries while no build was listening); publishing it again`);
        await this.dropQueued(session.farm, bundle);
        return 'republish';
      case 'rejected':
        log.warn(`farm: worker ${ending.worker} refused ${bundle.job}: ${ending.reason}`);
        if (ending.badBlobs.length === 0) return failedResult(bundle, `rejected by worker ${ending.worker}: ${ending.reason}`);
        // The store lost or mangled inputs we hold: put our verified copies back.
        for (const sha of ending.badBlobs) await session.farm.blobs.delete(sha).catch(() => undefined);
        return 'republish';
      case 'built': {
        const result = await this.collect(session, request, ending, record, false);
        return result ?? 'republish';
      }
    }
  }

  /** Fetches and verifies a built job's artifacts and log; null when an output failed verification (and was dropped). */
  private async collect(session: Session, request: ExecuteRequest, built: BuiltResult, record: FarmJobRecord, reused: boolean): Promise<JobResult | null> {
    const { bundle, outputDir } = request;
    const result = built.result;
    if (result.key !== bundle.key) return failedResult(bundle, `worker ${built.worker} answered for another job (key ${result.key})`);
    mkdirSync(outputDir, { recursive: true });
    const byValue = new Map((built.blobs ?? []).map((blob) => [blob.sha256, blob]));
    try {
      for (const artifact of result.artifacts) {
        const dest = join(outputDir, artifact.file);
        const value = byValue.get(artifact.sha256);
        let size: number;
        if (value === undefined) {
          size = await session.farm.blobs.fetchToFile(artifact.sha256, dest);
        } else {
          const bytes = unpackInline(value, 'result message');
          // The output folder is scratch space until run() returns (a failure removes what was written).
          writeFileSync(dest, bytes);
          size = bytes.length;
        }
        if (size !== artifact.size) throw new BadBlobError(artifact.sha256, 'corrupt', `size ${size}, expected ${artifact.size}`);
      }
      if (built.log) await this.appendLog(session, built.log, request.logFile, built.worker);
    } catch (error) {
      await Promise.all(result.artifacts.map((a) => rm(join(outputDir, a.file), { force: true })));
      if (!(error instanceof BadBlobError)) throw error;
      this.options.log.warn(`farm: ${bundle.job}: output from worker ${built.worker} rejected: ${error.message}`);
      if (error.problem === 'corrupt') await session.farm.blobs.delete(error.sha256).catch(() => undefined);
      return null;
    }
    Object.assign(record, {
      worker: built.worker,
      reused,
      startedAt: built.timing.startedAt,
      finishedAt: built.timing.finishedAt,
      receivedAt: Date.now(),
      fetchMs: built.timing.fetchMs,
      buildMs: built.timing.buildMs,
      uploadMs: built.timing.uploadMs,
    });
    if (reused) this.options.log.verbose(`farm: ${bundle.job} was finished by worker ${built.worker} in an earlier run; reusing it`);
    return result;
  }

  private async appendLog(session: Session, log: NonNullable<BuiltResult['log']>, logFile: string, worker: string): Promise<void> {
    const header = Buffer.from(`--- built on farm worker ${worker} ---\n`);
    if (log.inline !== undefined) {
      // Small (see inline.ts): one synchronous append.
      appendFileSync(logFile, Buffer.concat([header, unpackInline({ sha256: log.sha256, data: log.inline }, 'result message (the log)')]));
      return;
    }
    const tmp = join(tmpdir(), `strata-farm-log-${process.pid}-${log.sha256.slice(0, 16)}`);
    try {
      await session.farm.blobs.fetchToFile(log.sha256, tmp);
      await appendFile(logFile, Buffer.concat([header, await readFile(tmp)]));
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** A job that ran out of deliveries stays in a work queue stream; remove it so a rerun can queue it afresh. */
  private async dropQueued(farm: Farm, bundle: JobBundle): Promise<void> {
    for (const [seq, key] of this.bySequence) {
      if (key !== bundle.key) continue;
      await farm.jsm.streams.deleteMessage(farm.names.jobStream, seq).catch(() => undefined);
      this.bySequence.delete(seq);
    }
  }

  /**
   * Finds waited-on jobs whose message is still queued but will never be
   * delivered again, and ends their publication as 'stranded'. That is a job
   * that ran out of deliveries while nobody heard the server's advisory (left
   * by a coordinator that died, or ours while the connection was down), or
   * one the server lost track of in a crash. Without this a rerun waits on
   * such a job for ever. Runs with each worker poll.
   */
  private async sweepStranded(farm: Farm): Promise<void> {
    const byQueue = new Map<string, Array<{ key: string; queue: QueueId; seq: number }>>();
    for (const [key, { queued }] of this.pending) {
      if (queued === undefined) continue;
      const list = byQueue.get(queueKey(queued.queue)) ?? [];
      list.push({ key, ...queued });
      byQueue.set(queueKey(queued.queue), list);
    }
    for (const jobs of byQueue.values()) {
      // No consumer yet means no worker ever served the queue: its jobs are simply waiting.
      const info = await farm.jsm.consumers.info(farm.names.jobStream, queueConsumer(jobs[0]!.queue)).catch(() => null);
      if (info === null) continue;
      for (const { key, seq } of jobs) {
        if (!consumerMovedPast(info, seq)) continue;
        // Looked up after the consumer's state: a message acked in between is gone by now, not stranded.
        const message = await farm.jsm.streams.getMessage(farm.names.jobStream, { seq }).catch(() => null);
        const pending = this.pending.get(key);
        if (pending?.queued?.seq !== seq) continue;
        if (message !== null) {
          pending.deliver({ outcome: 'stranded' });
          continue;
        }
        // Acked, so its result was stored first; if its notice was lost (a reconnect), take it from the stream.
        // Only a build ends the job for good: a stale copy of a refusal could end the next publication too.
        const stored = await this.storedResult(farm, key).catch(() => null);
        if (stored?.outcome === 'built') this.deliver(stored);
      }
    }
  }

  /** What each job's time went to (in the order jobs finished). */
  jobRecords(): readonly FarmJobRecord[] {
    return this.records;
  }

  async probe(): Promise<ProbeResult> {
    try {
      const { farm } = await this.open();
      const workers = await liveWorkers(farm);
      const slots = workers.reduce((sum, w) => sum + w.slots, 0);
      return {
        backend: 'nats',
        ok: workers.length > 0,
        detail: `${describeConnection(this.options.connection)}: ${workers.length} worker(s), ${slots} slot(s)${workers.length === 0 ? '; start some with strata worker' : ''}`,
      };
    } catch (error) {
      // doctor prints only the detail: the hint (which setting to check) belongs in it.
      const hint = error instanceof StrataError && error.hint ? ` (${error.hint})` : '';
      return { backend: 'nats', ok: false, detail: `${error instanceof Error ? error.message : String(error)}${hint}` };
    }
  }

  async close(): Promise<void> {
    if (this.session === null) return;
    const session = await this.session.catch(() => null);
    this.session = null;
    if (session === null) return;
    clearInterval(session.poll);
    for (const sub of session.subscriptions) sub.unsubscribe();
    await session.farm.nc.drain().catch(() => undefined);
  }
}

/**
 * True when the queue's consumer will not deliver the message at `seq` again
 * (provided it is still in the stream: acked messages leave a work queue). It
 * is below the ack floor, or was delivered and no delivery is outstanding at
 * all. A delivery in progress, waiting for its ack wait or handed back (nak)
 * counts as outstanding, so a live job never looks stranded; one that ran out
 * of deliveries is no longer outstanding (nats-server drops it from the
 * consumer's pending set).
 */
function consumerMovedPast(info: ConsumerInfo, seq: number): boolean {
  if (seq <= info.ack_floor.stream_seq) return true;
  return info.num_ack_pending === 0 && seq <= info.delivered.stream_seq;
}

function failedResult(bundle: JobBundle, reason: string): JobResult {
  return { job: bundle.job, key: bundle.key, status: 'failed', exitCode: null, timedOut: false, seconds: 0, artifacts: [], reason, logTail: [] };
}
