/**
 * "Nearest candidates" for a requirement nothing provides: capability names
 * that share a long prefix with it or are a few edits away. Names are sorted
 * once; the edit-distance scan only looks at names of about the same length
 * that start alike, which keeps it fast over tens of thousands of names.
 */
import { editDistance } from '../util/suggest.js';

export class NameFinder {
  private readonly sorted: string[];
  private readonly byHead = new Map<string, string[]>();

  constructor(names: Iterable<string>) {
    this.sorted = [...new Set(names)].sort();
    for (const name of this.sorted) {
      const head = name.slice(0, 2).toLowerCase();
      const list = this.byHead.get(head);
      if (list) list.push(name);
      else this.byHead.set(head, [name]);
    }
  }

  nearest(word: string, limit = 5): string[] {
    const scored = new Map<string, number>();
    // Neighbours in sorted order share the longest prefixes.
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! < word) lo = mid + 1;
      else hi = mid;
    }
    const minPrefix = Math.max(3, Math.ceil(word.length / 2));
    for (let i = Math.max(0, lo - 3); i < Math.min(this.sorted.length, lo + 3); i++) {
      const name = this.sorted[i]!;
      if (commonPrefix(name, word) >= minPrefix) scored.set(name, editDistance(name, word));
    }
    const budget = Math.max(2, Math.floor(word.length / 4));
    for (const name of this.byHead.get(word.slice(0, 2).toLowerCase()) ?? []) {
      if (Math.abs(name.length - word.length) > budget || scored.has(name)) continue;
      const distance = editDistance(name, word);
      if (distance <= budget) scored.set(name, distance);
    }
    scored.delete(word);
    return [...scored.entries()]
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, limit)
      .map(([name]) => name);
  }
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
