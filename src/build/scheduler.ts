/**
 * Runs a DAG of tasks with at most N at a time. A task starts as soon as every
 * task it depends on has succeeded; among the ready tasks the one with the
 * longest remaining path (its own expected duration plus the longest chain of
 * work waiting on it) goes first, so the critical path never queues behind
 * short side branches.
 *
 * Knows nothing about builds: tasks are ids, dependencies and expected
 * durations; `execute` says how a task went.
 */
import pLimit from 'p-limit';
import { StrataError } from '../util/errors.js';

export interface ScheduledTask {
  id: string;
  /** Ids of tasks that must succeed first. */
  deps: readonly string[];
  /** Expected duration in seconds (remembered from earlier runs, or an estimate). */
  weight: number;
}

export type TaskOutcome = 'succeeded' | 'failed';

export type TaskStatus =
  | { state: 'succeeded' }
  | { state: 'failed'; error?: unknown }
  /** A task it depends on failed (directly or further up). */
  | { state: 'blocked'; by: string }
  /** Never started: the run stopped (a failure without keep-going, or an interrupt). */
  | { state: 'skipped' };

export interface ScheduleOptions {
  concurrency: number;
  /** Keep starting tasks that do not depend on a failure. */
  keepGoing: boolean;
  /** Aborting stops starting tasks; running ones are expected to watch the same signal. */
  signal?: AbortSignal;
  onStart?: (id: string) => void;
  onFinish?: (id: string, status: TaskStatus) => void;
}

/**
 * Longest remaining path per task: its weight plus the largest such value
 * among the tasks that depend on it. Throws on unknown dependencies and cycles.
 */
export function remainingPathLengths(tasks: readonly ScheduledTask[]): Map<string, number> {
  const order = topologicalOrder(tasks);
  const dependents = dependentsOf(tasks);
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const lengths = new Map<string, number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const id = order[i]!;
    let longest = 0;
    for (const next of dependents.get(id) ?? []) longest = Math.max(longest, lengths.get(next)!);
    lengths.set(id, byId.get(id)!.weight + longest);
  }
  return lengths;
}

/** Dependencies before dependents; ties in id order so that runs are repeatable. */
export function topologicalOrder(tasks: readonly ScheduledTask[]): string[] {
  const ids = new Set(tasks.map((task) => task.id));
  if (ids.size !== tasks.length) throw new StrataError('duplicate task ids in the schedule', { kind: 'build' });
  const pending = new Map<string, number>();
  for (const task of tasks) {
    for (const dep of task.deps) {
      if (!ids.has(dep)) throw new StrataError(`task ${task.id} depends on unknown task ${dep}`, { kind: 'build' });
    }
    pending.set(task.id, new Set(task.deps).size);
  }
  const dependents = dependentsOf(tasks);
  // Equal priorities: the queue hands out ready ids in name order.
  const ready = new ReadyQueue(new Map(tasks.map((task) => [task.id, 0])));
  for (const task of tasks) if (pending.get(task.id) === 0) ready.push(task.id);
  const order: string[] = [];
  while (ready.size > 0) {
    const id = ready.pop();
    order.push(id);
    for (const next of dependents.get(id) ?? []) {
      const left = pending.get(next)! - 1;
      pending.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  if (order.length !== tasks.length) {
    const stuck = tasks.filter((task) => pending.get(task.id)! > 0).map((task) => task.id).sort();
    throw new StrataError(`the build plan has a dependency cycle among: ${stuck.join(', ')}`, {
      kind: 'build',
      hint: 'break the cycle in config ([[graph.cycle-breaks]]); see strata graph',
    });
  }
  return order;
}

function dependentsOf(tasks: readonly ScheduledTask[]): Map<string, string[]> {
  const dependents = new Map<string, string[]>();
  for (const task of tasks) {
    for (const dep of new Set(task.deps)) {
      const list = dependents.get(dep) ?? [];
      list.push(task.id);
      dependents.set(dep, list);
    }
  }
  for (const list of dependents.values()) list.sort();
  return dependents;
}

/** A max-heap of ready task ids by remaining path length (ties: id order). */
class ReadyQueue {
  private readonly items: string[] = [];
  constructor(private readonly priority: Map<string, number>) {}

  get size(): number {
    return this.items.length;
  }

  private before(a: string, b: string): boolean {
    const pa = this.priority.get(a)!;
    const pb = this.priority.get(b)!;
    return pa !== pb ? pa > pb : a < b;
  }

  push(id: string): void {
    const items = this.items;
    items.push(id);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): string {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let best = i;
        if (left < items.length && this.before(items[left]!, items[best]!)) best = left;
        if (right < items.length && this.before(items[right]!, items[best]!)) best = right;
        if (best === i) break;
        [items[i], items[best]] = [items[best]!, items[i]!];
        i = best;
      }
    }
    return top;
  }
}

/**
 * Runs every task whose dependencies succeed. Resolves once nothing is running
 * any more, with a status for every task. `execute` rejecting counts as a
 * failure of that task (the error is kept in its status).
 */
export async function runSchedule(
  tasks: readonly ScheduledTask[],
  execute: (id: string) => Promise<TaskOutcome>,
  options: ScheduleOptions,
): Promise<Map<string, TaskStatus>> {
  const priority = remainingPathLengths(tasks);
  const dependents = dependentsOf(tasks);
  const waitingOn = new Map(tasks.map((task) => [task.id, new Set(task.deps).size]));
  const statuses = new Map<string, TaskStatus>();
  const ready = new ReadyQueue(priority);
  // p-limit runs at most N slots; each slot takes the best task ready at the
  // moment it starts (not when it was queued), which is what gives priority.
  const limit = pLimit(Math.max(1, options.concurrency));
  let stopping = false;
  let inFlight = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const settle = (id: string, status: TaskStatus): void => {
    statuses.set(id, status);
    options.onFinish?.(id, status);
  };

  const block = (failed: string): void => {
    const stack = [...(dependents.get(failed) ?? [])];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (statuses.has(id)) continue;
      settle(id, { state: 'blocked', by: failed });
      stack.push(...(dependents.get(id) ?? []));
    }
  };

  const slot = async (): Promise<void> => {
    const id = ready.pop();
    try {
      if (stopping || options.signal?.aborted) return;
      options.onStart?.(id);
      let status: TaskStatus;
      try {
        status = (await execute(id)) === 'succeeded' ? { state: 'succeeded' } : { state: 'failed' };
      } catch (error) {
        status = { state: 'failed', error };
      }
      settle(id, status);
      if (status.state === 'succeeded') {
        for (const next of dependents.get(id) ?? []) {
          const left = waitingOn.get(next)! - 1;
          waitingOn.set(next, left);
          if (left === 0) release(next);
        }
      } else {
        block(id);
        if (!options.keepGoing) stopping = true;
      }
    } finally {
      inFlight--;
      if (inFlight === 0) finish();
    }
  };

  const release = (id: string): void => {
    inFlight++;
    ready.push(id);
    void limit(slot);
  };

  for (const task of tasks) if (waitingOn.get(task.id) === 0) release(task.id);
  if (inFlight === 0) finish();
  await finished;
  for (const task of tasks) if (!statuses.has(task.id)) settle(task.id, { state: 'skipped' });
  return statuses;
}
