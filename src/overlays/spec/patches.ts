/**
 * How a spec declares and applies its patches: `PatchN` tags or a `%patchlist`,
 * applied by `%autosetup`/`%autopatch` or by explicit `%patch` lines in %prep.
 * patch-add and patch-remove keep the declaration and the application in step.
 */
import { OverlayFailure } from '../types/type.js';
import { unconditionalAfter, type SpecEdit } from './edit.js';
import { parseTag, sectionsNamed, type Section, type SpecModel, type TagLine } from './model.js';

export interface PatchTag extends TagLine {
  /** N of `PatchN`; a bare `Patch:` gets one more than the highest number so far, as rpm numbers it. */
  number: number;
}

export function patchTags(model: SpecModel): PatchTag[] {
  const out: PatchTag[] = [];
  let highest = -1;
  for (const section of model.sections) {
    if (section.name !== '' && section.name !== '%package') continue;
    for (let i = section.bodyStart; i < section.bodyEnd; i++) {
      const tag = parseTag(model, i);
      const m = tag ? /^patch([0-9]*)$/.exec(tag.key) : null;
      if (!tag || !m) continue;
      const number = m[1] === '' ? highest + 1 : Number(m[1]);
      highest = Math.max(highest, number);
      out.push({ ...tag, number });
    }
  }
  return out;
}

export function nextPatchNumber(model: SpecModel): number {
  return Math.max(-1, ...patchTags(model).map((t) => t.number)) + 1;
}

export interface PatchLine {
  section: Section;
  /** Logical line index. */
  line: number;
  numbers: number[];
  /** The strip option as written (`-p1`, `-p 2`), reused for an added patch. */
  strip: string | null;
}

const VALUE_OPTIONS = new Set(['-b', '-z', '-F', '-d', '-o', '-D']);

/** Reads `%patch3 -p1`, `%patch -P 3 -p1`, `%patch -P3`, `%patch 3 -p1` (rpm ≥ 4.18). */
export function parsePatchLine(text: string): { numbers: number[]; strip: string | null } | null {
  const m = /^\s*%patch([0-9]*)(?=\s|$)(.*)$/.exec(text);
  if (!m) return null;
  const numbers: number[] = m[1] === '' ? [] : [Number(m[1])];
  let strip: string | null = null;
  const words = m[2]!.trim().split(/\s+/).filter((w) => w !== '');
  for (let k = 0; k < words.length; k++) {
    const word = words[k]!;
    if (word === '-P') numbers.push(Number(words[++k]));
    else if (/^-P[0-9]+$/.test(word)) numbers.push(Number(word.slice(2)));
    else if (word === '-p') strip = `-p${words[++k] ?? ''}`;
    else if (/^-p[0-9]+$/.test(word)) strip = word;
    else if (VALUE_OPTIONS.has(word)) k++;
    else if (/^[0-9]+$/.test(word)) numbers.push(Number(word));
  }
  return { numbers: numbers.length > 0 ? numbers : [0], strip };
}

export function patchLines(model: SpecModel): PatchLine[] {
  const out: PatchLine[] = [];
  for (const section of sectionsNamed(model, '%prep', undefined)) {
    for (let i = section.bodyStart; i < section.bodyEnd; i++) {
      const parsed = parsePatchLine(model.logical[i]!.text);
      if (parsed) out.push({ section, line: i, ...parsed });
    }
  }
  return out;
}

function findInPrep(model: SpecModel, re: RegExp): Array<{ section: Section; line: number }> {
  const out: Array<{ section: Section; line: number }> = [];
  for (const section of sectionsNamed(model, '%prep', undefined)) {
    for (let i = section.bodyStart; i < section.bodyEnd; i++) {
      if (re.test(model.logical[i]!.text)) out.push({ section, line: i });
    }
  }
  return out;
}

/**
 * What an `%autopatch` line applies: everything, a -m/-M range, or (rpm ≥ 4.18)
 * the numbers it lists; and its strip option.
 */
export function parseAutopatch(text: string): { covers: (n: number) => boolean; strip: string | null } {
  const words = text.trim().split(/\s+/).slice(1);
  let min = -Infinity;
  let max = Infinity;
  let strip: string | null = null;
  const listed: number[] = [];
  for (let k = 0; k < words.length; k++) {
    const word = words[k]!;
    const attached = /^-([mMp])([0-9]+)$/.exec(word);
    const option = attached ? attached[1] : /^-([mMp])$/.test(word) ? word[1] : null;
    const value = attached ? attached[2] : option ? words[++k] : undefined;
    if (option === 'm') min = Number(value);
    else if (option === 'M') max = Number(value);
    else if (option === 'p') strip = `-p${value}`;
    else if (/^[0-9]+$/.test(word)) listed.push(Number(word));
  }
  return { covers: (n) => (listed.length > 0 ? listed.includes(n) : n >= min && n <= max), strip };
}

/** Whether logical line `index` sits inside a conditional opened within its section. */
function isConditional(model: SpecModel, section: Section, index: number): boolean {
  let depth = 0;
  for (let i = section.bodyStart; i < index; i++) {
    const kind = model.logical[i]!.conditional;
    if (kind === 'if') depth++;
    else if (kind === 'endif' && depth > 0) depth--;
  }
  return depth > 0;
}

/**
 * The %prep edits that make patch N applied the way the spec applies the
 * others. Nothing when an unconditional %autopatch covers N or %autosetup
 * applies every patch; else a `%patch -P N` line after the last explicit one
 * (same strip level), or after the last %autopatch (a `-M 99` range), or after
 * %setup. A patch only a conditional %autopatch would apply is refused rather
 * than applied on some builds only (or twice).
 */
export function applicationEdits(model: SpecModel, number: number): SpecEdit[] {
  const autopatch = findInPrep(model, /^\s*%autopatch(?=\s|$)/).map((a) => ({
    ...a,
    ...parseAutopatch(model.logical[a.line]!.text),
    conditional: isConditional(model, a.section, a.line),
  }));
  const covering = autopatch.filter((a) => a.covers(number));
  if (covering.some((a) => !a.conditional)) return [];
  if (covering.length > 0) {
    throw new OverlayFailure(
      `patch ${number} would be applied only where '${model.logical[covering[0]!.line]!.text.trim()}' is, inside an %if`,
      'source',
      'apply it yourself: spec-insert-tag for the PatchN tag and spec-append-lines in %prep',
    );
  }
  if (findInPrep(model, /^\s*%autosetup(?=\s|$)(?!.*\s-N(?=\s|$))/).length > 0) return [];
  const explicit = patchLines(model).at(-1);
  const after = explicit ?? autopatch.at(-1);
  if (after) {
    const strip = (explicit ? explicit.strip : autopatch.at(-1)!.strip) ?? (explicit ? null : '-p1');
    const line = `%patch -P ${number}${strip ? ` ${strip}` : ''}`;
    return [{ kind: 'insert', at: unconditionalAfter(model, after.section, after.line), lines: [line] }];
  }
  const setup = findInPrep(model, /^\s*%(setup|autosetup)(?=\s|$)/).at(-1);
  if (setup) return [{ kind: 'insert', at: unconditionalAfter(model, setup.section, setup.line), lines: [`%patch -P ${number} -p1`] }];
  throw new OverlayFailure(
    'the spec applies patches in no way strata recognises (no %autosetup, %autopatch, %patch or %setup in %prep)',
    'source',
    'add the patch with spec-add-tag and apply it with spec-append-lines in %prep',
  );
}

/** Removes the `%patch` lines that apply only patches being removed. */
export function unapplicationEdits(model: SpecModel, removed: Set<number>): SpecEdit[] {
  const edits: SpecEdit[] = [];
  for (const patch of patchLines(model)) {
    const hit = patch.numbers.filter((n) => removed.has(n));
    if (hit.length === 0) continue;
    if (hit.length < patch.numbers.length) {
      throw new OverlayFailure(
        `'${model.logical[patch.line]!.text.trim()}' applies removed and kept patches together`,
        'file',
        'split that %patch line first (spec-search-replace)',
      );
    }
    const line = model.logical[patch.line]!;
    edits.push({ kind: 'delete', start: line.start, end: line.end });
  }
  return edits;
}
