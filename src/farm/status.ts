/**
 * What `strata farm status` reports: the live workers (from their
 * heartbeats), each queue's depth (from the job stream, so a queue nobody
 * serves shows too) and what its consumer has handed out, and throughput.
 */
import type { Farm } from './farm.js';
import { liveWorkers } from './farm.js';
import type { WorkerHeartbeat } from './protocol.js';
import { formatSize } from '../util/units.js';

export interface QueueStatus {
  arch: string;
  route: string;
  /** Jobs in the queue, running ones included (a work queue drops a job when it is acked). */
  queued: number;
  /** Handed to a worker and not acked yet. */
  running: number;
  /** Delivered more than once (a worker died or handed it back). */
  redelivered: number;
  /** Worker slots currently waiting for a job on this queue. */
  idlePulls: number;
  /** False when no worker ever registered for this queue: its jobs wait for one. */
  served: boolean;
}

export interface WorkerStatus extends Omit<WorkerHeartbeat, 'format'> {
  busy: number;
  /** Seconds since the last heartbeat. */
  seenSecondsAgo: number;
}

export interface FarmStatus {
  namespace: string;
  server: { version: string; jetstream: boolean };
  workers: WorkerStatus[];
  queues: QueueStatus[];
  totals: {
    workers: number;
    slots: number;
    busySlots: number;
    queued: number;
    running: number;
    /** Jobs finished in the last minute, over all workers. */
    throughputPerMinute: number;
  };
  store: { blobBytes: number; results: number };
}

export async function farmStatus(farm: Farm): Promise<FarmStatus> {
  const now = Date.now();
  const workers: WorkerStatus[] = (await liveWorkers(farm)).map(({ format: _format, ...w }) => ({
    ...w,
    busy: w.running.length,
    seenSecondsAgo: Math.max(0, Math.round((now - w.seenAt) / 1000)),
  }));

  const queues = new Map<string, QueueStatus>();
  const queueOf = (arch: string, route: string): QueueStatus => {
    const key = `${arch}.${route}`;
    let queue = queues.get(key);
    if (!queue) {
      queue = { arch, route, queued: 0, running: 0, redelivered: 0, idlePulls: 0, served: false };
      queues.set(key, queue);
    }
    return queue;
  };
  const prefix = `strata.${farm.names.namespace}.jobs.`;
  const jobs = await farm.jsm.streams.info(farm.names.jobStream, { subjects_filter: farm.names.allJobs });
  for (const [subject, count] of Object.entries(jobs.state.subjects ?? {})) {
    const [arch, route] = subject.slice(prefix.length).split('.');
    if (arch && route) queueOf(arch, route).queued += count;
  }
  for await (const consumer of farm.jsm.consumers.list(farm.names.jobStream)) {
    const filter = consumer.config.filter_subject ?? '';
    if (!filter.startsWith(prefix)) continue;
    const [arch, route] = filter.slice(prefix.length).split('.');
    if (!arch || !route) continue;
    const queue = queueOf(arch, route);
    queue.served = true;
    queue.running += consumer.num_ack_pending;
    queue.redelivered += consumer.num_redelivered;
    queue.idlePulls += consumer.num_waiting;
  }
  const results = await farm.jsm.streams.info(farm.names.resultStream);
  const { bytes } = await farm.blobs.usage();
  const sorted = [...queues.values()].sort((a, b) => (a.arch === b.arch ? (a.route < b.route ? -1 : 1) : a.arch < b.arch ? -1 : 1));
  return {
    namespace: farm.names.namespace,
    server: { version: farm.nc.info?.version ?? 'unknown', jetstream: farm.nc.info?.jetstream ?? false },
    workers,
    queues: sorted,
    totals: {
      workers: workers.length,
      slots: workers.reduce((sum, w) => sum + w.slots, 0),
      busySlots: workers.reduce((sum, w) => sum + w.busy, 0),
      queued: jobs.state.messages,
      running: sorted.reduce((sum, q) => sum + q.running, 0),
      throughputPerMinute: workers.reduce((sum, w) => sum + w.finishedLastMinute, 0),
    },
    store: { blobBytes: bytes, results: results.state.messages },
  };
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatFarmStatus(status: FarmStatus, endpoint: string): string {
  const t = status.totals;
  const now = Date.now();
  const lines = [
    `farm ${status.namespace} on ${endpoint} (nats-server ${status.server.version})`,
    `workers: ${t.workers}, slots: ${t.slots} (${t.busySlots} busy), queued: ${t.queued} (${t.running} running), throughput: ${t.throughputPerMinute} job(s)/min`,
  ];
  if (status.workers.length > 0) lines.push('', 'workers:');
  for (const w of status.workers) {
    lines.push(
      `  ${w.id}  ${w.arches.join(',')}  ${w.busy}/${w.slots} busy  ${w.completed} built, ${w.failed} failed  ${w.sandbox}  strata ${w.version}  seen ${w.seenSecondsAgo}s ago${w.draining ? '  (stopping)' : ''}`,
    );
    for (const job of w.running) lines.push(`      ${job.job}  ${duration(Math.round((now - job.since) / 1000))}`);
  }
  if (status.queues.length > 0) lines.push('', 'queues:');
  for (const q of status.queues) {
    lines.push(
      `  ${q.arch.padEnd(8)} ${q.route.padEnd(40)} queued ${q.queued}, running ${q.running}, redelivered ${q.redelivered}${q.served ? '' : '  (no worker has served this queue yet)'}`,
    );
  }
  lines.push('', `store: ${formatSize(status.store.blobBytes)} of blobs, ${status.store.results} stored result(s)`);
  return lines.join('\n');
}
