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
 * The %prep edits that make patch N applied the way the spec applies the
 * others: nothing under %autosetup/%autopatch, else a `%patch -P N` line after
 * the last explicit one (same strip level), else one after %setup.
 */
export function applicationEdits(model: SpecModel, number: number): SpecEdit[] {
  const explicit = patchLines(model);
  if (explicit.length > 0) {
    const last = explicit.at(-1)!;
    const line = `%patch -P ${number}${last.strip ? ` ${last.strip}` : ''}`;
    return [{ kind: 'insert', at: unconditionalAfter(model, last.section, last.line), lines: [line] }];
  }
  if (findInPrep(model, /^\s*%autopatch(?=\s|$)/).length > 0) return [];
  if (findInPrep(model, /^\s*%autosetup(?=\s|$)(?!.*\s-N(?=\s|$))/).length > 0) return [];
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
