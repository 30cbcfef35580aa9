/** A worker's counting semaphores (build slots, jobs taken), whose waiters give up on a signal or a deadline. */
export type SlotWait = 'acquired' | 'stopped' | 'timeout';

export class Slots {
  private waiters: Array<(outcome: SlotWait) => void> = [];

  constructor(private free: number) {}

  get available(): number {
    return this.free;
  }

  /** Waits for a slot; `timeoutMs` (default: none) bounds the wait. */
  acquire(stop: AbortSignal, timeoutMs = Infinity): Promise<SlotWait> {
    if (stop.aborted) return Promise.resolve('stopped');
    if (this.free > 0) {
      this.free--;
      return Promise.resolve('acquired');
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (outcome: SlotWait): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        clearTimeout(timer);
        stop.removeEventListener('abort', onStop);
        resolve(outcome);
      };
      const waiter = (outcome: SlotWait): void => settle(outcome);
      const onStop = (): void => settle('stopped');
      this.waiters.push(waiter);
      stop.addEventListener('abort', onStop, { once: true });
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => settle('timeout'), timeoutMs);
    });
  }

  release(): void {
    const next = this.waiters[0];
    if (next) next('acquired');
    else this.free++;
  }
}

/**
 * Whether a worker whose build slots are all busy may take one more job and
 * fetch its inputs while it waits for a slot. For short builds that hides the
 * round trip to the queue and the input fetch behind the running build; for
 * long ones it would keep the job from a worker that is idle now, so staging is
 * allowed only while this worker's recent builds were short, and a staged job
 * that waits too long is handed back.
 */
export class StagingPolicy {
  /** Exponentially weighted mean of recent build times; null before the first build. */
  private typicalMs: number | null = null;

  constructor(
    /** Stage only while builds typically take less than this. */
    private readonly shortBuildMs = 2000,
  ) {}

  recordBuild(ms: number): void {
    this.typicalMs = this.typicalMs === null ? ms : 0.8 * this.typicalMs + 0.2 * ms;
  }

  allowed(): boolean {
    return this.typicalMs !== null && this.typicalMs < this.shortBuildMs;
  }

  /** How long a staged job may wait for a slot before another worker should have it. */
  patienceMs(): number {
    return Math.max(1000, 4 * (this.typicalMs ?? 0));
  }
}

/** What one job holds of a worker's capacity: a taken-job permit and, once it builds, a build slot; each given back once. */
export class JobPermit {
  private holdsTaken = true;

  constructor(
    private readonly builds: Slots,
    private readonly taken: Slots,
    private holdsBuild: boolean,
  ) {}

  async waitForBuildSlot(signal: AbortSignal, patienceMs: number): Promise<SlotWait> {
    if (this.holdsBuild) return 'acquired';
    const outcome = await this.builds.acquire(signal, patienceMs);
    if (outcome === 'acquired') this.holdsBuild = true;
    return outcome;
  }

  release(): void {
    if (this.holdsBuild) this.builds.release();
    if (this.holdsTaken) this.taken.release();
    this.holdsBuild = false;
    this.holdsTaken = false;
  }
}
