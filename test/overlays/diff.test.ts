/** Myers diff and overlay attribution of hunks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffLines } from '../../src/overlays/diff/myers.js';
import { LineProvenance, toHunks } from '../../src/overlays/diff/attribute.js';

function replay(a: string[], b: string[]): string[] {
  const out: string[] = [];
  for (const op of diffLines(a, b)) {
    if (op.op === 'keep') {
      assert.equal(a[op.a], b[op.b]);
      out.push(a[op.a]!);
    } else if (op.op === 'insert') out.push(b[op.b]!);
  }
  return out;
}

test('Myers diff turns a into b with a minimal script on random inputs', () => {
  let seed = 7;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let round = 0; round < 500; round++) {
    const a = Array.from({ length: Math.floor(random() * 15) }, () => 'abc'[Math.floor(random() * 3)]!);
    const b = Array.from({ length: Math.floor(random() * 15) }, () => 'abc'[Math.floor(random() * 3)]!);
    assert.deepEqual(replay(a, b), b);
    const ops = diffLines(a, b);
    assert.equal(ops.filter((o) => o.op !== 'insert').length, a.length, 'every line of a is kept or deleted once');
  }
  assert.equal(diffLines(['x', 'y', 'z'], ['x', 'Y', 'z']).filter((o) => o.op !== 'keep').length, 2);
});

test('provenance attributes each change to the overlay that made it, through later edits', () => {
  const base = ['Name: a', 'Release: 1', 'BuildRequires: gcc', '', '%build', 'make', '', '%files', '/usr/bin/a'];
  const provenance = new LineProvenance(base);
  provenance.step(['Name: a', 'Release: 2', 'BuildRequires: gcc', '', '%build', 'make', '', '%files', '/usr/bin/a'], 1);
  provenance.step(['Name: a', 'Release: 2', 'BuildRequires: gcc', 'BuildRequires: make', '', '%build', 'make', '', '%files', '/usr/bin/a'], 2);
  // Overlay 3 edits a line overlay 2 wrote: the insertion is now overlay 3's.
  provenance.step(['Name: a', 'Release: 2', 'BuildRequires: gcc', 'BuildRequires: make >= 4', '', '%build', 'make', '', '%files', '/usr/bin/a'], 3);
  const hunks = toHunks(provenance.result(), 1);
  assert.deepEqual(
    hunks.map((h) => [h.overlay, h.oldStart, h.oldLines, h.newStart, h.newLines, h.lines]),
    [
      // The one unchanged line between the two changes is shown once, with the later hunk.
      [1, 1, 2, 1, 2, [' Name: a', '-Release: 1', '+Release: 2']],
      [3, 3, 2, 3, 3, [' BuildRequires: gcc', '+BuildRequires: make >= 4', ' ']],
    ],
  );
});
