/**
 * How many jobs a coordinator keeps published per queue: the slots of the
 * workers serving it, plus twice as many waiting: one per slot that a worker
 * running short builds holds staged (see StagingPolicy), and one per slot so
 * that a worker finishing a job finds the next one without a round trip
 * through the coordinator. Jobs
 * beyond that wait here, in the order the scheduler handed them over (its
 * critical-path order), instead of in the server's FIFO where a long chain's
 * head could sit behind hundreds of short leaves.
 */
import { interrupted } from '../util/errors.js';

/**
 * Jobs kept published for `slots` worker slots: the slots plus `queueAhead`
 * waiting (default: twice the slots; more when an autoscaler sizes the pool
 * from the queue's depth and needs to see the backlog).
 */
export function farmWindow(slots: number, queueAhead?: number): number {
  return slots + (queueAhead ?? Math.max(1, 2 * slots));
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class QueueGate {
  private readonly inFlight = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter[]>();

  /** `slots(queue)`: worker slots currently serving the queue (0 when none is known). */
  constructor(
    private readonly slots: (queue: string) => number,
    private readonly queueAhead?: number,
  ) {}

  /** With no worker yet, at least one job waits so the first worker to arrive starts at once. */
  window(queue: string): number {
    return farmWindow(this.slots(queue), this.queueAhead);
  }

  async acquire(queue: string, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw interrupted();
    if ((this.inFlight.get(queue) ?? 0) < this.window(queue) && (this.waiting.get(queue)?.length ?? 0) === 0) {
      this.inFlight.set(queue, (this.inFlight.get(queue) ?? 0) + 1);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      const list = this.waiting.get(queue) ?? [];
      list.push(waiter);
      this.waiting.set(queue, list);
      signal?.addEventListener(
        'abort',
        () => {
          const at = list.indexOf(waiter);
          if (at >= 0) {
            list.splice(at, 1);
            reject(interrupted());
          }
        },
        { once: true },
      );
    });
  }

  release(queue: string): void {
    this.inFlight.set(queue, Math.max(0, (this.inFlight.get(queue) ?? 0) - 1));
    this.pump(queue);
  }

  /** Lets waiting jobs through after the worker pool grew. */
  pumpAll(): void {
    for (const queue of this.waiting.keys()) this.pump(queue);
  }

  private pump(queue: string): void {
    const list = this.waiting.get(queue);
    while (list && list.length > 0 && (this.inFlight.get(queue) ?? 0) < this.window(queue)) {
      this.inFlight.set(queue, (this.inFlight.get(queue) ?? 0) + 1);
      list.shift()!.resolve();
    }
  }
}
