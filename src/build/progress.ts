/**
 * Build progress for people: on a terminal, one status line redrawn in place
 * (done/total, cache hits, running jobs with their elapsed time, estimated
 * time left); elsewhere (CI), one plain line per finished job.
 */
import type { Logger } from '../util/log.js';
import { paint } from '../util/log.js';

/** `planned`: a dry run found the job would build. */
export type JobOutcome = 'built' | 'cached' | 'planned' | 'failed' | 'blocked' | 'skipped';

export class BuildProgress {
  private readonly running = new Map<string, number>();
  private done = 0;
  private hits = 0;
  private failed = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly remainingWork: Map<string, number>;

  constructor(
    private readonly log: Logger,
    private readonly total: number,
    /** Expected seconds per job (remembered durations). */
    weights: ReadonlyMap<string, number>,
    private readonly concurrency: number,
  ) {
    this.remainingWork = new Map(weights);
    if (log.interactive) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  started(id: string): void {
    this.running.set(id, performance.now());
    this.draw();
  }

  finished(id: string, outcome: JobOutcome, seconds: number, detail?: string): void {
    this.running.delete(id);
    this.remainingWork.delete(id);
    this.done++;
    if (outcome === 'cached') this.hits++;
    if (outcome === 'failed') this.failed++;
    const counter = `[${String(this.done).padStart(String(this.total).length)}/${this.total}]`;
    const color = this.log.color;
    const word =
      outcome === 'failed' ? paint(color, 'red', 'FAILED ') : outcome === 'cached' ? paint(color, 'dim', 'cached ') : outcome === 'built' ? paint(color, 'green', 'built  ') : paint(color, 'yellow', `${outcome}`.padEnd(7));
    const time = outcome === 'built' || outcome === 'failed' ? ` in ${seconds.toFixed(1)} s` : '';
    // Cache hits are the common case of a rebuild: list them only when asked.
    const line = `${counter} ${word} ${id}${time}${detail ? ` (${detail})` : ''}`;
    if (outcome === 'cached') this.log.verbose(line);
    else this.log.info(line);
    this.draw();
  }

  /** Seconds of work left, spread over the job slots, minus what running jobs already did. */
  private eta(): number {
    const now = performance.now();
    let work = 0;
    for (const [id, seconds] of this.remainingWork) {
      const started = this.running.get(id);
      work += started === undefined ? seconds : Math.max(0, seconds - (now - started) / 1000);
    }
    return work / Math.max(1, this.concurrency);
  }

  private draw(): void {
    if (!this.log.interactive || this.done === this.total) return;
    const now = performance.now();
    const running = [...this.running]
      .sort(([, a], [, b]) => a - b)
      .map(([id, start]) => `${id} ${Math.round((now - start) / 1000)}s`)
      .join(', ');
    const eta = Math.round(this.eta());
    const parts = [`${this.done}/${this.total} done`, `${this.hits} cached`];
    if (this.failed > 0) parts.push(`${this.failed} failed`);
    if (running) parts.push(`running: ${running}`);
    parts.push(`~${eta >= 60 ? `${Math.floor(eta / 60)}m${String(eta % 60).padStart(2, '0')}s` : `${eta}s`} left`);
    this.log.progress(parts.join(' · '));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.log.progressDone();
  }
}
