/**
 * Which overlay made which line. Each line of a document carries its origin (a
 * base line, or the overlay that wrote it); applying overlays one at a time and
 * diffing each step moves origins along, so the final base → rendered diff can
 * name, for every inserted or deleted line, the overlay responsible.
 */
import { diffLines } from './myers.js';

type Origin = { base: number } | { overlay: number };

export interface AttributedLine {
  op: 'keep' | 'delete' | 'insert';
  text: string;
  /** Overlay index for deletions and insertions. */
  overlay?: number;
  /** 1-based line numbers in the base and rendered text. */
  oldLine?: number;
  newLine?: number;
}

export function splitLines(text: string): string[] {
  if (text === '') return [];
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
}

export class LineProvenance {
  private lines: Array<{ text: string; origin: Origin }>;
  /** Base line → the overlay that deleted it. */
  private readonly deletedBy = new Map<number, number>();

  constructor(private readonly base: readonly string[]) {
    this.lines = base.map((text, i) => ({ text, origin: { base: i } }));
  }

  /** Records overlay `index` turning the current text into `next`. */
  step(next: readonly string[], index: number): void {
    const current = this.lines;
    const updated: Array<{ text: string; origin: Origin }> = [];
    for (const op of diffLines(current.map((l) => l.text), next)) {
      if (op.op === 'keep') updated.push(current[op.a]!);
      else if (op.op === 'insert') updated.push({ text: next[op.b]!, origin: { overlay: index } });
      else {
        const origin = current[op.a]!.origin;
        if ('base' in origin) this.deletedBy.set(origin.base, index);
      }
    }
    this.lines = updated;
  }

  /** The base → final diff, every change attributed; deletions before insertions within a change. */
  result(): AttributedLine[] {
    const out: AttributedLine[] = [];
    let pending: AttributedLine[] = [];
    let nextBase = 0;
    let newLine = 0;
    const flushDeletions = (upTo: number): void => {
      for (; nextBase < upTo; nextBase++) {
        out.push({ op: 'delete', text: this.base[nextBase]!, overlay: this.deletedBy.get(nextBase), oldLine: nextBase + 1 });
      }
    };
    for (const line of this.lines) {
      newLine++;
      if ('base' in line.origin) {
        flushDeletions(line.origin.base);
        out.push(...pending);
        pending = [];
        out.push({ op: 'keep', text: line.text, oldLine: line.origin.base + 1, newLine });
        nextBase = line.origin.base + 1;
      } else {
        pending.push({ op: 'insert', text: line.text, overlay: line.origin.overlay, newLine });
      }
    }
    flushDeletions(this.base.length);
    out.push(...pending);
    return out;
  }
}

export interface Hunk {
  overlay: number | undefined;
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Unified-diff body lines (' ', '-', '+' prefixed). */
  lines: string[];
}

/**
 * Groups attributed lines into hunks, one overlay each, with up to `context`
 * unchanged lines around them; neighbouring hunks of different overlays split
 * the unchanged lines between them so no line is shown twice.
 */
export function toHunks(lines: readonly AttributedLine[], context = 3): Hunk[] {
  // Runs of changes by one overlay, as [start, end) indexes into `lines`.
  const runs: Array<{ start: number; end: number; overlay: number | undefined }> = [];
  lines.forEach((line, i) => {
    if (line.op === 'keep') return;
    const last = runs.at(-1);
    const gapIsContext = last !== undefined && lines.slice(last.end, i).every((l) => l.op === 'keep');
    if (last && last.overlay === line.overlay && gapIsContext && i - last.end <= 2 * context) last.end = i + 1;
    else runs.push({ start: i, end: i + 1, overlay: line.overlay });
  });
  return runs.map((run, r) => {
    const prevEnd = r > 0 ? runs[r - 1]!.end : 0;
    const nextStart = r + 1 < runs.length ? runs[r + 1]!.start : lines.length;
    const gapBefore = run.start - prevEnd;
    const before = r > 0 ? Math.min(context, gapBefore - Math.min(context, Math.floor(gapBefore / 2))) : Math.min(context, gapBefore);
    const after = Math.min(context, r + 1 < runs.length ? Math.floor((nextStart - run.end) / 2) : nextStart - run.end);
    const slice = lines.slice(run.start - before, run.end + after);
    const firstOld = slice.find((l) => l.oldLine !== undefined)?.oldLine;
    const firstNew = slice.find((l) => l.newLine !== undefined)?.newLine;
    const oldLines = slice.filter((l) => l.op !== 'insert').length;
    const newLines = slice.filter((l) => l.op !== 'delete').length;
    // An empty side starts at the line before, as in diff -u.
    const oldBefore = lines.slice(0, run.start - before).filter((l) => l.op !== 'insert').length;
    const newBefore = lines.slice(0, run.start - before).filter((l) => l.op !== 'delete').length;
    return {
      overlay: run.overlay,
      oldStart: oldLines === 0 ? oldBefore : (firstOld ?? oldBefore + 1),
      oldLines,
      newStart: newLines === 0 ? newBefore : (firstNew ?? newBefore + 1),
      newLines,
      lines: slice.map((l) => `${l.op === 'keep' ? ' ' : l.op === 'delete' ? '-' : '+'}${l.text}`),
    };
  });
}
