/**
 * Dependencies as rpm writes them, parsed into a tree: simple `name [op evr]`
 * and rich (boolean) dependencies such as `(a or b)`, `(a if b else c)`,
 * `(a with b)` — rpm 4.18's grammar (lib/rpmds.c rpmrichParse): operands are
 * simple dependencies or parenthesised rich ones; `and`, `or`, `with` chain
 * with the same operator only; `if`/`unless` take one optional `else`.
 */
import type { DepFlag, Dependency } from '../spec/model.js';

export type RichOp = 'and' | 'or' | 'if' | 'unless' | 'with' | 'without';

export type DepTree =
  | { kind: 'simple'; name: string; flag: DepFlag | null; evr: string | null }
  | { kind: 'and' | 'or' | 'with'; operands: DepTree[] }
  | { kind: 'if' | 'unless'; then: DepTree; condition: DepTree; otherwise: DepTree | null }
  | { kind: 'without'; then: DepTree; condition: DepTree };

export class DependencySyntaxError extends Error {}

const FLAGS: readonly string[] = ['<=', '>=', '<', '>', '=', '=='];
const OPS: readonly string[] = ['and', 'or', 'if', 'unless', 'else', 'with', 'without'];

function normaliseFlag(op: string): DepFlag {
  return (op === '==' ? '=' : op) as DepFlag;
}

/** Parses a dependency string (simple or rich). Throws DependencySyntaxError. */
export function parseDependency(text: string): DepTree {
  const parser = new Parser(text.trim());
  const tree = parser.operand();
  parser.skipSpace();
  if (!parser.atEnd()) throw new DependencySyntaxError(`unexpected '${parser.rest()}' in '${text}'`);
  return tree;
}

/** Rich dependencies recur across a distro (and are asked for more than once per resolution): parse each text once. */
const richTrees = new Map<string, DepTree>();

/** The tree of a dependency from spec facts (never throws: rpm already accepted it). */
export function treeOf(dep: Dependency): DepTree {
  if (dep.name !== null) return { kind: 'simple', name: dep.name, flag: dep.flag, evr: dep.evr };
  let tree = richTrees.get(dep.raw);
  if (tree === undefined) {
    try {
      tree = parseDependency(dep.raw);
    } catch {
      tree = { kind: 'simple', name: dep.raw, flag: null, evr: null };
    }
    richTrees.set(dep.raw, tree);
  }
  return tree;
}

/** `name [op evr]` as a Dependency record (for capabilities written in config). */
export function simpleDependency(text: string): Dependency {
  const tree = parseDependency(text);
  if (tree.kind !== 'simple') return { raw: text.trim(), name: null, flag: null, evr: null };
  return { raw: text.trim(), name: tree.name, flag: tree.flag, evr: tree.evr };
}

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }
  rest(): string {
    return this.text.slice(this.pos);
  }
  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  /** A word up to whitespace or an unbalanced ')' (names such as pkgconfig(x) keep their parentheses). */
  private word(): string {
    this.skipSpace();
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (/\s/.test(c) && depth === 0) break;
      if (c === '(') depth++;
      if (c === ')') {
        if (depth === 0) break;
        depth--;
      }
      this.pos++;
    }
    return this.text.slice(start, this.pos);
  }

  private peekWord(): string {
    const saved = this.pos;
    const w = this.word();
    this.pos = saved;
    return w;
  }

  operand(): DepTree {
    this.skipSpace();
    if (this.text[this.pos] === '(') {
      this.pos++;
      const tree = this.expression();
      this.skipSpace();
      if (this.text[this.pos] !== ')') throw new DependencySyntaxError(`missing ')' in '${this.text}'`);
      this.pos++;
      return tree;
    }
    const name = this.word();
    if (name === '' || OPS.includes(name)) throw new DependencySyntaxError(`expected a dependency at '${this.rest()}' in '${this.text}'`);
    const next = this.peekWord();
    if (FLAGS.includes(next)) {
      this.word();
      const evr = this.word();
      if (evr === '') throw new DependencySyntaxError(`missing version after '${next}' in '${this.text}'`);
      return { kind: 'simple', name, flag: normaliseFlag(next), evr };
    }
    return { kind: 'simple', name, flag: null, evr: null };
  }

  private expression(): DepTree {
    const first = this.operand();
    const op = this.peekWord();
    if (!OPS.includes(op)) return first;
    if (op === 'else') throw new DependencySyntaxError(`'else' without 'if' or 'unless' in '${this.text}'`);
    this.word();
    if (op === 'and' || op === 'or' || op === 'with') {
      const operands = [first, this.operand()];
      while (this.peekWord() === op) {
        this.word();
        operands.push(this.operand());
      }
      if (OPS.includes(this.peekWord())) throw new DependencySyntaxError(`mixing '${op}' with '${this.peekWord()}' needs parentheses in '${this.text}'`);
      return { kind: op, operands };
    }
    const condition = this.operand();
    if (op === 'without') return { kind: 'without', then: first, condition };
    let otherwise: DepTree | null = null;
    if (this.peekWord() === 'else') {
      this.word();
      otherwise = this.operand();
    }
    return { kind: op as 'if' | 'unless', then: first, condition, otherwise };
  }
}

/** Text of a tree, as rpm prints it. */
export function formatTree(tree: DepTree): string {
  switch (tree.kind) {
    case 'simple':
      return tree.flag && tree.evr ? `${tree.name} ${tree.flag} ${tree.evr}` : tree.name;
    case 'and':
    case 'or':
    case 'with':
      return `(${tree.operands.map(formatTree).join(` ${tree.kind} `)})`;
    case 'without':
      return `(${formatTree(tree.then)} without ${formatTree(tree.condition)})`;
    default:
      return `(${formatTree(tree.then)} ${tree.kind} ${formatTree(tree.condition)}${tree.otherwise ? ` else ${formatTree(tree.otherwise)}` : ''})`;
  }
}
