/** A worker's capacity: build slots, staged jobs, and when staging is allowed. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { JobPermit, Slots, StagingPolicy } from '../../src/farm/slots.js';

describe('worker slots', () => {
  test('a slot goes to the first waiter; waits end on stop or after their patience', async () => {
    const slots = new Slots(1);
    const never = new AbortController().signal;
    assert.equal(await slots.acquire(never), 'acquired');
    const first = slots.acquire(never);
    const second = slots.acquire(never, 30);
    assert.equal(await second, 'timeout');
    const stopper = new AbortController();
    const third = slots.acquire(stopper.signal);
    stopper.abort();
    assert.equal(await third, 'stopped');
    slots.release();
    assert.equal(await first, 'acquired');
    assert.equal(slots.available, 0);
    slots.release();
    assert.equal(slots.available, 1);
  });

  test('a permit gives back what it holds exactly once', async () => {
    const builds = new Slots(1);
    const taken = new Slots(2);
    const never = new AbortController().signal;
    assert.equal(await taken.acquire(never), 'acquired');
    const permit = new JobPermit(builds, taken, false);
    assert.equal(await permit.waitForBuildSlot(never, Infinity), 'acquired');
    assert.equal(builds.available, 0);
    permit.release();
    permit.release();
    assert.equal(builds.available, 1);
    assert.equal(taken.available, 2);
  });

  test('a staged job waiting for a slot that is not freed in time gets "timeout" and holds nothing', async () => {
    const builds = new Slots(0);
    const taken = new Slots(0);
    const permit = new JobPermit(builds, taken, false);
    assert.equal(await permit.waitForBuildSlot(new AbortController().signal, 20), 'timeout');
    permit.release();
    assert.equal(builds.available, 0);
    assert.equal(taken.available, 1);
  });

  test('staging is allowed only once builds are known to be short, and its patience follows their length', () => {
    const policy = new StagingPolicy(2000);
    assert.equal(policy.allowed(), false, 'no build seen yet');
    for (let i = 0; i < 5; i++) policy.recordBuild(100);
    assert.equal(policy.allowed(), true);
    assert.equal(policy.patienceMs(), 1000);
    for (let i = 0; i < 20; i++) policy.recordBuild(60_000);
    assert.equal(policy.allowed(), false, 'long builds: a staged job would keep work from idle workers');
    assert.ok(policy.patienceMs() > 100_000);
  });
});
