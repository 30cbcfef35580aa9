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
  private readonly memo = new Map<string, string[]>();

  constructor(names: Iterable<string>) {
    this.sorted = [...new Set(names)].sort();
    for (const name of this.sorted) {
      const head = headOf(name);
      const list = this.byHead.get(head);
      if (list) list.push(name);
      else this.byHead.set(head, [name]);
    }
  }

  nearest(word: string, limit = 5): string[] {
    const key = `${limit}\u0000${word}`;
    const known = this.memo.get(key);
    if (known) return known;
    const found = this.search(word, limit);
    this.memo.set(key, found);
    return found;
  }

  private search(word: string, limit: number): string[] {
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
    for (const name of this.byHead.get(headOf(word)) ?? []) {
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

/**
 * The bucket a name is compared in: its first two letters, or for a namespaced
 * capability (`pkgconfig(x)`, `perl(X::Y)`) the namespace plus the first two
 * letters inside it, since thousands of names share each namespace.
 */
function headOf(name: string): string {
  const m = /^([^(]+)\((.{0,2})/.exec(name);
  return (m ? `${m[1]}(${m[2]}` : name.slice(0, 2)).toLowerCase();
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
