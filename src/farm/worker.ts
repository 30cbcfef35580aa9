/**
 * `strata worker`: takes jobs from the queues of the arches and build roots it
 * can serve, builds each with a local executor (its own sandbox), and reports
 * back through the farm. It needs nothing but the job's bundle: every input is
 * fetched by digest into a local cache and verified before use, in a work
 * folder of its own.
 *
 * Delivery rules, from the queue's point of view:
 * - while a build runs the message is marked in progress every third of the
 *   ack wait, so a long build is never redelivered;
 * - a worker that dies stops doing that, and the server redelivers the job to
 *   another worker after the ack wait;
 * - a build that fails is a result like any other: reported once, then acked;
 * - a bundle with a bad or missing input is never run: the worker reports which
 *   blobs were bad (its coordinator puts its own copies back) and acks;
 * - a worker that cannot work (its sandbox broke) hands the job back (nak), and
 *   the consumer's max deliveries stops a job that breaks every worker;
 * - on SIGTERM it takes nothing new, lets running builds finish within a grace
 *   period, then hands back whatever still runs, and exits.
 */
import { readFileSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { bundleBlobs, type Executor, type JobBundle, type JobResult } from '../build/executor.js';
import type { Arch } from '../config/model.js';
import type { Logger } from '../util/log.js';
import { StrataError } from '../util/errors.js';
import { sha256File, sha256Hex } from '../util/hash.js';
import { STRATA_VERSION } from '../version.js';
import { BlobCache } from './blob-cache.js';
import { chooseInline, inlineLimits, packInline, type InlineLimits } from './inline.js';
import { JobFolders, type JobFolder } from './job-folders.js';
import { JobPermit, Slots, StagingPolicy } from './slots.js';
import { connectFarm, describeConnection, type FarmConnectionSettings } from './connection.js';
import { DEFAULT_LAYOUT, DEFAULT_QUEUE_POLICY, ensureQueueConsumer, openFarm, PUBLISH_RETRIES, type Farm, type FarmLayout, type QueuePolicy } from './farm.js';
import { BadBlobError, BlobUploader } from './object-store.js';
import { encode, parseBundle, parseJobMessage, type BuiltResult, type InlineBlob, type JobMessage, type ResultMessage, type WorkerHeartbeat } from './protocol.js';
import { farmNames, queueKey, resultSubject, rootRoute, type QueueId } from './subjects.js';

/** Logs up to this size are sent inside the result message. */
const INLINE_LOG_BYTES = 64 * 1024;

export interface WorkerOptions {
  connection: FarmConnectionSettings;
  namespace: string;
  arches: Arch[];
  /** Build-root routes served (see rootRoute). */
  routes: string[];
  slots: number;
  executor: Executor;
  workDir: string;
  log: Logger;
  policy?: QueuePolicy;
  layout?: FarmLayout;
  heartbeatMs?: number;
  /** After SIGTERM, how long running builds may take to finish before they are handed back. */
  graceMs: number;
}

export interface WorkerSummary {
  id: string;
  completed: number;
  failed: number;
  rejected: number;
  handedBack: number;
}

interface Running {
  job: string;
  key: string;
  since: number;
  abort: AbortController;
}

export class FarmWorker {
  readonly id: string;
  private readonly running = new Map<JsMsg, Running>();
  private readonly finishedAt: number[] = [];
  private readonly summary: WorkerSummary;
  private readonly startedAt = Date.now();
  private draining = false;
  /** Index of the queue the last job came from. */
  private lastBusyQueue = 0;

  constructor(private readonly options: WorkerOptions) {
    this.id = `${hostname().replace(/[^A-Za-z0-9-]/g, '-')}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.summary = { id: this.id, completed: 0, failed: 0, rejected: 0, handedBack: 0 };
  }

  /**
   * Works until `stop` aborts (first SIGTERM), then drains; `handBack` (a second
   * signal) ends the grace period at once.
   */
  async run(stop: AbortSignal, handBack: AbortSignal): Promise<WorkerSummary> {
    const { log, policy = DEFAULT_QUEUE_POLICY } = this.options;
    await mkdir(this.options.workDir, { recursive: true });
    const nc = await connectFarm(this.options.connection, `strata worker ${this.id}`);
    try {
      const farm = await openFarm(nc, farmNames(this.options.namespace), this.options.layout ?? DEFAULT_LAYOUT);
      const cache = new BlobCache(join(this.options.workDir, 'blobs'), farm.blobs);
      const uploader = new BlobUploader(farm.blobs);
      const limits = inlineLimits(nc.info?.max_payload ?? 1024 * 1024);
      const folders = new JobFolders(this.options.workDir);
      const queues: QueueId[] = this.options.arches.flatMap((arch) => this.options.routes.map((route) => ({ arch, route })));
      const consumers: Array<[QueueId, Consumer]> = [];
      for (const queue of queues) {
        const name = await ensureQueueConsumer(farm, queue, policy);
        consumers.push([queue, await farm.js.consumers.get(farm.names.jobStream, name)]);
      }
      log.info(`worker ${this.id}: ${this.options.slots} slot(s) for ${queues.map(queueKey).join(', ')} on ${describeConnection(this.options.connection)} (namespace ${farm.names.namespace})`);

      await this.beat(farm);
      const heartbeat = setInterval(() => void this.beat(farm).catch(() => undefined), this.options.heartbeatMs ?? 5000);
      const builds = new Slots(this.options.slots);
      // Jobs taken and not built yet: one per build slot, plus one staged (see StagingPolicy).
      const taken = new Slots(this.options.slots + 1);
      const staging = new StagingPolicy();
      const io: WorkerIo = { farm, cache, uploader, limits, folders, staging, stop };
      const jobs = new Set<Promise<void>>();
      try {
        for (let turn = 0; (await taken.acquire(stop)) === 'acquired'; turn++) {
          // With every build slot busy and builds that are not short, wait for a slot before pulling.
          let holdsBuild = false;
          if (builds.available === 0 && !staging.allowed()) {
            if ((await builds.acquire(stop)) !== 'acquired') {
              taken.release();
              break;
            }
            holdsBuild = true;
          }
          const permit = new JobPermit(builds, taken, holdsBuild);
          const pulled = await this.pull(consumers, turn).catch(async (error: unknown) => {
            log.warn(`worker: pulling jobs failed: ${(error as Error).message}; retrying`);
            await new Promise((r) => setTimeout(r, 1000));
            return null;
          });
          if (pulled === null) {
            permit.release();
            continue;
          }
          const [queue, msg] = pulled;
          if (stop.aborted) {
            // Arrived after we began draining: give it straight back.
            msg.nak();
            permit.release();
            break;
          }
          // The permit is given back when the build ends, so the next job's
          // inputs download while this one's outputs upload.
          const job = this.handle(io, queue, msg, handBack, permit).finally(() => {
            permit.release();
            jobs.delete(job);
          });
          jobs.add(job);
        }
        this.draining = true;
        await this.beat(farm).catch(() => undefined);
        if (jobs.size > 0) {
          log.info(`worker ${this.id}: stopping; waiting up to ${Math.round(this.options.graceMs / 1000)} s for ${jobs.size} running job(s)`);
          await this.waitOrHandBack(jobs, handBack);
        }
      } finally {
        clearInterval(heartbeat);
        await farm.workers.delete(this.id).catch(() => undefined);
      }
      return this.summary;
    } finally {
      await nc.drain().catch(() => undefined);
    }
  }

  /**
   * One job for one free slot. A worker serving several queues must not let a
   * long pull on an idle queue hold its slot while another queue has work, so
   * it first asks which queues have jobs waiting and pulls from those in turn.
   * When all look empty it waits on the queue that last had work (a job may
   * be published any moment), and now and then on another one, so that a job
   * waiting for redelivery, which the pending count does not show, is found too.
   */
  private async pull(consumers: Array<[QueueId, Consumer]>, turn: number): Promise<[QueueId, JsMsg] | null> {
    const pick = async (index: number, expires: number): Promise<[QueueId, JsMsg] | null> => {
      const [queue, consumer] = consumers[index]!;
      const msg = await consumer.next({ expires });
      if (msg === null) return null;
      this.lastBusyQueue = index;
      return [queue, msg];
    };
    if (consumers.length === 1) return pick(0, 2000);
    const order = consumers.map((_, i) => (turn + i) % consumers.length);
    const pending = await Promise.all(order.map(async (i) => (await consumers[i]![1].info()).num_pending));
    for (const [at, index] of order.entries()) {
      if (pending[at]! > 0) {
        const got = await pick(index, 1000);
        if (got) return got;
      }
    }
    return pick(turn % 8 === 0 ? order[0]! : this.lastBusyQueue, 1000);
  }

  private async waitOrHandBack(jobs: Set<Promise<void>>, handBack: AbortSignal): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.graceMs);
      handBack.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([Promise.all(jobs), deadline]);
    clearTimeout(timer);
    for (const running of this.running.values()) running.abort.abort();
    await Promise.all(jobs);
  }

  private async beat(farm: Farm): Promise<void> {
    const now = Date.now();
    while (this.finishedAt.length > 0 && this.finishedAt[0]! < now - 60_000) this.finishedAt.shift();
    const heartbeat: WorkerHeartbeat = {
      format: 'strata-farm-worker/1',
      id: this.id,
      host: hostname(),
      version: STRATA_VERSION,
      sandbox: this.options.executor.name,
      arches: this.options.arches,
      routes: this.options.routes,
      slots: this.options.slots,
      running: [...this.running.values()].map(({ job, key, since }) => ({ job, key, since })),
      completed: this.summary.completed,
      failed: this.summary.failed,
      finishedLastMinute: this.finishedAt.length,
      startedAt: this.startedAt,
      seenAt: now,
      draining: this.draining,
    };
    await farm.workers.put(this.id, encode(heartbeat));
  }

  private async handle(io: WorkerIo, queue: QueueId, msg: JsMsg, handBack: AbortSignal, permit: JobPermit): Promise<void> {
    const { log, policy = DEFAULT_QUEUE_POLICY } = this.options;
    const { farm, cache, uploader, limits, folders, staging, stop } = io;
    const delivery = msg.info.deliveryCount;
    let job: JobMessage;
    try {
      job = parseJobMessage(msg.data);
      if (job.arch !== queue.arch || job.route !== queue.route) throw new StrataError(`job ${job.job} is for ${job.arch}/${job.route} but came on ${queueKey(queue)}`);
    } catch (error) {
      log.warn(`worker: dropped a malformed job message: ${(error as Error).message}`);
      msg.term();
      return;
    }
    const abort = new AbortController();
    const onHandBack = (): void => abort.abort();
    handBack.addEventListener('abort', onHandBack, { once: true });
    this.running.set(msg, { job: job.job, key: job.key, since: Date.now(), abort });
    // In progress: resets the ack timer, so only a dead worker's job is redelivered.
    const ticker = setInterval(() => msg.working(), Math.max(250, policy.ackWaitMs / 3));
    let folder: JobFolder | null = null;
    const startedAt = Date.now();
    try {
      if (delivery > 1) log.info(`worker: ${job.job} redelivered (delivery ${delivery})`);
      let bundleBytes: Uint8Array;
      if (job.bundle.inline !== undefined) {
        bundleBytes = new TextEncoder().encode(job.bundle.inline);
        if (sha256Hex(bundleBytes) !== job.bundle.sha256) {
          return await this.reject(farm, msg, job, delivery, [], 'the bundle inside the job message does not match its digest');
        }
      } else {
        const bundleCheck = await cache.getAll([job.bundle.sha256], 1);
        if (bundleCheck.bad.length > 0) return await this.reject(farm, msg, job, delivery, bundleCheck.bad);
        bundleBytes = await readFile(bundleCheck.paths.get(job.bundle.sha256)!);
      }
      const bundle = parseBundle(bundleBytes);
      const mismatch = checkBundle(bundle, job, this.options.arches, this.options.routes);
      if (mismatch) return await this.reject(farm, msg, job, delivery, [], mismatch);
      const named = new Set(bundleBlobs(bundle));
      const badValues = cache.putInline((job.blobs ?? []).filter((blob) => named.has(blob.sha256)), 'job message');
      if (badValues.length > 0) return await this.reject(farm, msg, job, delivery, badValues);
      const inputs = await cache.getAll([...named], 4);
      if (inputs.bad.length > 0) return await this.reject(farm, msg, job, delivery, inputs.bad);
      const fetchedAt = Date.now();
      // A staged job waits here for a build slot. It is handed back when it waited too long or the
      // worker stops, but never on its last delivery: staging must not use up a job's deliveries.
      const patience = delivery < policy.maxDeliver - 1 ? staging.patienceMs() : Infinity;
      const wait = await permit.waitForBuildSlot(AbortSignal.any([stop, abort.signal]), patience);
      if (wait !== 'acquired') {
        msg.nak();
        this.summary.handedBack++;
        log.verbose(`worker: handed ${job.job} back before building it (${wait === 'timeout' ? 'no slot came free in time' : 'stopping'})`);
        return;
      }
      const slotAt = Date.now();

      folder = folders.take();
      const { outputDir, logFile } = folder;
      log.verbose(`worker: building ${job.job}`);
      const result = await this.options.executor.run({ bundle, blobs: inputs.paths, outputDir, logFile, signal: abort.signal });
      const builtAt = Date.now();
      permit.release();
      staging.recordBuild(builtAt - slotAt);

      const outputs = await sendOutputs(uploader, limits, result, outputDir);
      const jobLog = await this.logForResult(uploader, limits, logFile);
      const message: ResultMessage = {
        format: 'strata-farm-result/1',
        outcome: 'built',
        key: job.key,
        bundle: job.bundle.sha256,
        worker: this.id,
        delivery,
        result: resultForWire(result),
        log: jobLog,
        ...(outputs.length > 0 ? { blobs: outputs } : {}),
        timing: { fetchMs: fetchedAt - startedAt, buildMs: builtAt - slotAt, uploadMs: Date.now() - builtAt, startedAt, finishedAt: Date.now() },
      };
      // Retried through a stream leader election; a second stored copy is harmless (one result per key is kept).
      await farm.js.publish(resultSubject(farm.names, job.key), encode(message), { retries: PUBLISH_RETRIES });
      // The result is stored before the ack: a crash in between costs a rebuild, never a lost result.
      msg.ack();
      this.finishedAt.push(Date.now());
      if (result.status === 'succeeded') this.summary.completed++;
      else this.summary.failed++;
      log.info(`worker: ${job.job} ${result.status} in ${((builtAt - slotAt) / 1000).toFixed(1)} s${result.reason ? `: ${result.reason}` : ''}`);
    } catch (error) {
      if (abort.signal.aborted) {
        // Stopping: hand the job back for another worker to take now, not after the ack wait.
        msg.nak();
        this.summary.handedBack++;
        log.info(`worker: handed ${job.job} back`);
      } else {
        // This worker cannot run it (sandbox broke, store unreachable); another may. Max deliveries bounds this.
        msg.nak(5000);
        log.warn(`worker: could not run ${job.job}: ${(error as Error).message}; handed back`);
      }
    } finally {
      clearInterval(ticker);
      handBack.removeEventListener('abort', onHandBack);
      this.running.delete(msg);
      if (folder !== null) folders.release(folder);
    }
  }

  /** A small log travels inside the result message (one round trip less each way); a large one as a blob. */
  private async logForResult(uploader: BlobUploader, limits: InlineLimits, logFile: string): Promise<BuiltResult['log']> {
    const size = statSync(logFile, { throwIfNoEntry: false })?.size;
    if (size === undefined) return null;
    if (size <= Math.min(INLINE_LOG_BYTES, limits.budgetBytes)) {
      const bytes = readFileSync(logFile);
      return { sha256: sha256Hex(bytes), size: bytes.length, inline: bytes.toString('base64') };
    }
    const sha256 = await sha256File(logFile);
    await uploader.ensureFile(sha256, logFile);
    return { sha256, size };
  }

  private async reject(farm: Farm, msg: JsMsg, job: JobMessage, delivery: number, bad: BadBlobError[], reason?: string): Promise<void> {
    const message: ResultMessage = {
      format: 'strata-farm-result/1',
      outcome: 'rejected',
      key: job.key,
      bundle: job.bundle.sha256,
      worker: this.id,
      delivery,
      reason: reason ?? bad.map((b) => b.message).join('; '),
      badBlobs: bad.map((b) => b.sha256),
    };
    await farm.js.publish(resultSubject(farm.names, job.key), encode(message));
    msg.ack();
    this.summary.rejected++;
    this.options.log.warn(`worker: refused ${job.job}: ${message.reason}`);
  }
}

/** Why this worker must not run the bundle, or null. */
function checkBundle(bundle: JobBundle, job: JobMessage, arches: Arch[], routes: string[]): string | null {
  if (bundle.key !== job.key) return `the bundle is for key ${bundle.key}, the job message says ${job.key}`;
  if (bundle.arch !== job.arch || !arches.includes(bundle.arch)) return `the bundle targets ${bundle.arch}, which this worker does not build`;
  const route = rootRoute(bundle.buildRoot);
  if (route !== job.route || !routes.includes(route)) return `the bundle needs build root ${route}, which this worker does not have`;
  return null;
}

/** The connection-wide things one job uses. */
interface WorkerIo {
  farm: Farm;
  cache: BlobCache;
  uploader: BlobUploader;
  limits: InlineLimits;
  folders: JobFolders;
  staging: StagingPolicy;
  /** The worker's first SIGTERM. */
  stop: AbortSignal;
}

/**
 * Makes a build's artifacts available to the coordinator: small ones are
 * returned to go inside the result message, the rest are uploaded. Either
 * way the executor's claim is checked first: a worker never publishes a digest
 * it did not compute.
 */
async function sendOutputs(uploader: BlobUploader, limits: InlineLimits, result: JobResult, outputDir: string): Promise<InlineBlob[]> {
  const checked = (path: string, sha256: string, actual: string): void => {
    if (actual !== sha256) throw new StrataError(`executor reported ${path} as ${sha256} but it hashes to ${actual}`, { kind: 'build' });
  };
  const { inline, stored } = chooseInline(result.artifacts, limits);
  const [values] = await Promise.all([
    Promise.all(
      inline.map(({ file, sha256 }) => {
        const bytes = readFileSync(join(outputDir, file));
        checked(file, sha256, sha256Hex(bytes));
        return packInline(sha256, bytes);
      }),
    ),
    Promise.all(
      stored.map(async ({ file, sha256 }) => {
        const path = join(outputDir, file);
        checked(path, sha256, await sha256File(path));
        await uploader.ensureFile(sha256, path);
      }),
    ),
  ]);
  // Two artifacts with the same bytes go by value once.
  return [...new Map(values.map((v) => [v.sha256, v])).values()];
}

/** The JobResult fields the wire format carries (an executor may add more; they stay local). */
function resultForWire(result: JobResult): JobResult {
  const { job, key, status, exitCode, timedOut, seconds, artifacts, reason, logTail } = result;
  return { job, key, status, exitCode, timedOut, seconds, artifacts: artifacts.map(({ file, sha256, size }) => ({ file, sha256, size })), ...(reason === undefined ? {} : { reason }), logTail };
}
