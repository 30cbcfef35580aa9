/**
 * Myers' O(ND) difference algorithm over lines: the shortest edit script from
 * `a` to `b`, as a sequence of kept, deleted and inserted lines.
 */
export type DiffOp = { op: 'keep'; a: number; b: number } | { op: 'delete'; a: number } | { op: 'insert'; b: number };

export function diffLines(a: readonly string[], b: readonly string[]): DiffOp[] {
  // Common prefix and suffix cost nothing and keep the search small.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const middle = myers(a.slice(head, a.length - tail), b.slice(head, b.length - tail)).map((op): DiffOp => {
    if (op.op === 'keep') return { op: 'keep', a: op.a + head, b: op.b + head };
    if (op.op === 'delete') return { op: 'delete', a: op.a + head };
    return { op: 'insert', b: op.b + head };
  });
  const ops: DiffOp[] = [];
  for (let i = 0; i < head; i++) ops.push({ op: 'keep', a: i, b: i });
  ops.push(...middle);
  for (let i = 0; i < tail; i++) ops.push({ op: 'keep', a: a.length - tail + i, b: b.length - tail + i });
  return ops;
}

function myers(a: readonly string[], b: readonly string[]): DiffOp[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = max === 0;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace backwards from (n, m) to recover the script.
  const ops: DiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push({ op: 'keep', a: x, b: y });
    }
    if (d > 0) {
      if (x === prevX) ops.push({ op: 'insert', b: prevY });
      else ops.push({ op: 'delete', a: prevX });
    }
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}
