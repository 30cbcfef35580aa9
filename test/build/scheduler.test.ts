import { test } from 'node:test';
import assert from 'node:assert/strict';
import { remainingPathLengths, runSchedule, topologicalOrder, type ScheduledTask, type TaskOutcome } from '../../src/build/scheduler.js';
import { StrataError } from '../../src/util/errors.js';

const task = (id: string, deps: string[] = [], weight = 1): ScheduledTask => ({ id, deps, weight });

/** Runs a schedule whose tasks take `weight` ms (scaled) and records start order and peak parallelism. */
async function simulate(tasks: ScheduledTask[], concurrency: number, fail: Set<string> = new Set(), keepGoing = false) {
  const started: string[] = [];
  let running = 0;
  let peak = 0;
  const weights = new Map(tasks.map((t) => [t.id, t.weight]));
  const statuses = await runSchedule(
    tasks,
    async (id): Promise<TaskOutcome> => {
      started.push(id);
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, weights.get(id)! * 5));
      running--;
      return fail.has(id) ? 'failed' : 'succeeded';
    },
    { concurrency, keepGoing },
  );
  return { started, peak, statuses };
}

test('remaining path length is own weight plus the longest chain waiting on it', () => {
  const lengths = remainingPathLengths([task('a', [], 2), task('b', ['a'], 3), task('c', ['a'], 1), task('d', ['b'], 4)]);
  assert.deepEqual(Object.fromEntries(lengths), { a: 9, b: 7, c: 1, d: 4 });
});

test('with one slot, the ready task on the longest path starts first, not the first in name order', async () => {
  // 'a-short' sorts first, but 'z-head' leads a chain of 10 units.
  const tasks = [task('a-short', [], 1), task('m-short', [], 1), task('z-head', [], 1), task('z-tail', ['z-head'], 9)];
  const { started } = await simulate(tasks, 1);
  assert.equal(started[0], 'z-head');
  assert.equal(started[1], 'z-tail', 'the critical chain continues before the short side tasks');
});

test('never runs more than N tasks at once, and uses all N slots when work allows', async () => {
  const tasks = Array.from({ length: 12 }, (_, i) => task(`t${i}`, [], 2));
  const { peak } = await simulate(tasks, 3);
  assert.equal(peak, 3);
});

test('a task starts only after every dependency succeeded', async () => {
  const tasks = [task('a', [], 3), task('b', [], 1), task('c', ['a', 'b'], 1)];
  const { started } = await simulate(tasks, 4);
  assert.deepEqual(started.slice(-1), ['c']);
});

test('a failure blocks everything downstream and, without keep-going, stops new starts', async () => {
  const tasks = [task('bad', [], 1), task('child', ['bad']), task('grandchild', ['child']), task('slow-other', [], 1), task('later', ['slow-other'], 1)];
  const { statuses } = await simulate(tasks, 1, new Set(['bad']));
  assert.equal(statuses.get('bad')!.state, 'failed');
  assert.deepEqual(statuses.get('child'), { state: 'blocked', by: 'bad' });
  assert.deepEqual(statuses.get('grandchild'), { state: 'blocked', by: 'bad' });
  // 'bad' ran first (longest path), so nothing else was started after it failed.
  assert.equal(statuses.get('slow-other')!.state, 'skipped');
  assert.equal(statuses.get('later')!.state, 'skipped');
});

test('keep-going finishes everything that does not depend on a failure', async () => {
  const tasks = [task('bad', [], 1), task('child', ['bad']), task('other', [], 1), task('other-child', ['other'])];
  const { statuses } = await simulate(tasks, 1, new Set(['bad']), true);
  assert.equal(statuses.get('bad')!.state, 'failed');
  assert.equal(statuses.get('child')!.state, 'blocked');
  assert.equal(statuses.get('other')!.state, 'succeeded');
  assert.equal(statuses.get('other-child')!.state, 'succeeded');
});

test('an execute that throws is a failure of that task, with the error kept', async () => {
  const boom = new StrataError('boom', { kind: 'build' });
  const statuses = await runSchedule([task('x'), task('y', ['x'])], async () => {
    throw boom;
  }, { concurrency: 2, keepGoing: true });
  assert.deepEqual(statuses.get('x'), { state: 'failed', error: boom });
  assert.deepEqual(statuses.get('y'), { state: 'blocked', by: 'x' });
});

test('an aborted signal stops new starts; unstarted tasks are skipped', async () => {
  const abort = new AbortController();
  const statuses = await runSchedule(
    [task('first', [], 5), task('second', ['first'])],
    async () => {
      abort.abort();
      return 'succeeded';
    },
    { concurrency: 1, keepGoing: false, signal: abort.signal },
  );
  assert.equal(statuses.get('first')!.state, 'succeeded');
  assert.equal(statuses.get('second')!.state, 'skipped');
});

test('cycles and unknown dependencies are reported, naming the tasks', () => {
  assert.throws(() => topologicalOrder([task('a', ['b']), task('b', ['a']), task('c')]), /cycle among: a, b/);
  assert.throws(() => topologicalOrder([task('a', ['ghost'])]), /unknown task ghost/);
});

test('an empty schedule resolves at once', async () => {
  assert.equal((await runSchedule([], async () => 'succeeded', { concurrency: 2, keepGoing: false })).size, 0);
});
