/**
 * Where spec edits go, and applying them. Positions are physical line indexes
 * (insert before that line); every rule about conditionals lives here so that
 * each overlay type only says what it wants ("after the last Source tag", "at
 * the end of %files devel"), never how to stay clear of an %if.
 */
import type { Section, SpecModel } from './model.js';
import { parseSpec, specText } from './model.js';

export type SpecEdit =
  | { kind: 'insert'; at: number; lines: string[] }
  | { kind: 'delete'; start: number; end: number }
  | { kind: 'replace'; start: number; end: number; lines: string[] };

/** Applies edits computed against one model; positions refer to the unedited lines. */
export function applyEdits(model: SpecModel, edits: SpecEdit[]): string {
  const lines = [...model.lines];
  // Bottom-up so earlier positions stay valid; insertions at one point keep their order.
  const ordered = edits
    .map((edit, order) => ({ edit, order, at: edit.kind === 'insert' ? edit.at : edit.start }))
    .sort((a, b) => b.at - a.at || b.order - a.order);
  for (const { edit } of ordered) {
    if (edit.kind === 'insert') lines.splice(edit.at, 0, ...edit.lines);
    else if (edit.kind === 'delete') lines.splice(edit.start, edit.end - edit.start);
    else lines.splice(edit.start, edit.end - edit.start, ...edit.lines);
  }
  return specText(lines, model.finalNewline || model.lines.length === 0);
}

/** Physical line right after the section header (the top of the file for the main preamble). */
export function bodyStartLine(model: SpecModel, section: Section): number {
  return section.header < 0 ? 0 : model.logical[section.header]!.end;
}

/** Physical index after logical line `index`. */
function after(model: SpecModel, index: number): number {
  return model.logical[index]!.end;
}

interface ConditionalScan {
  /** Logical index of the first %else/%endif that closes a conditional opened before the section. */
  firstOuterDirective: number;
  /** Openers inside the section whose %endif lies beyond the section's end. */
  unclosed: number[];
}

function scanConditionals(model: SpecModel, section: Section): ConditionalScan {
  const stack: number[] = [];
  let firstOuterDirective = -1;
  for (let i = section.bodyStart; i < section.bodyEnd; i++) {
    const kind = model.logical[i]!.conditional;
    if (kind === 'if') stack.push(i);
    else if (kind === 'endif' || kind === 'else') {
      if (stack.length === 0) {
        if (firstOuterDirective < 0) firstOuterDirective = i;
      } else if (kind === 'endif') stack.pop();
    }
  }
  return { firstOuterDirective, unclosed: stack };
}

function isFiller(text: string): boolean {
  const trimmed = text.trim();
  return trimmed === '' || trimmed.startsWith('#');
}

/**
 * Where lines appended to a section go: after its last line of content, before
 * trailing blank lines and comments (which introduce what follows), before an
 * %endif/%else that closes a conditional wrapping the section, and before an %if
 * that opens inside the section but closes after it (so the new lines are not
 * made conditional on something that belongs to the next section).
 */
export function contentEndLine(model: SpecModel, section: Section): number {
  const scan = scanConditionals(model, section);
  let limit = section.bodyEnd;
  if (scan.firstOuterDirective >= 0) limit = Math.min(limit, scan.firstOuterDirective);
  if (scan.unclosed.length > 0) limit = Math.min(limit, scan.unclosed[0]!);
  while (limit > section.bodyStart && isFiller(model.logical[limit - 1]!.text)) limit--;
  return limit > section.bodyStart ? after(model, limit - 1) : bodyStartLine(model, section);
}

/**
 * The physical line after logical line `index`, moved past the end of the
 * outermost conditional opened inside the section that encloses it, so an
 * inserted line stays unconditional. If that conditional runs past the section's
 * end, the line goes before its %if instead.
 */
export function unconditionalAfter(model: SpecModel, section: Section, index: number): number {
  const stack: number[] = [];
  for (let i = section.bodyStart; i <= index; i++) {
    const kind = model.logical[i]!.conditional;
    if (kind === 'if') stack.push(i);
    else if (kind === 'endif' && stack.length > 0 && i !== index) stack.pop();
  }
  if (model.logical[index]!.conditional === 'endif' && stack.length > 0) stack.pop();
  if (stack.length === 0) return after(model, index);
  let depth = stack.length;
  for (let i = index + 1; i < section.bodyEnd; i++) {
    const kind = model.logical[i]!.conditional;
    if (kind === 'if') depth++;
    else if (kind === 'endif') {
      depth--;
      if (depth === 0) return after(model, i);
    }
  }
  return model.logical[stack[0]!]!.start;
}

/** Physical range of a logical line. */
export function lineRange(model: SpecModel, index: number): { start: number; end: number } {
  const line = model.logical[index]!;
  return { start: line.start, end: line.end };
}

function isBlank(model: SpecModel, index: number): boolean {
  return model.logical[index]!.text.trim() === '';
}

/** %if/%else/%endif lines of a section whose partner lies outside it. */
function straddlingDirectives(model: SpecModel, section: Section): Set<number> {
  const keep = new Set<number>();
  const stack: number[] = [];
  for (let i = section.bodyStart; i < section.bodyEnd; i++) {
    const kind = model.logical[i]!.conditional;
    if (kind === 'if') stack.push(i);
    else if (kind === 'endif' || kind === 'else') {
      if (stack.length === 0) keep.add(i);
      else if (kind === 'endif') stack.pop();
    }
  }
  for (const open of stack) {
    keep.add(open);
    // The %else branches of an %if that leaves the section stay with it.
    let depth = 0;
    for (let i = open + 1; i < section.bodyEnd; i++) {
      const kind = model.logical[i]!.conditional;
      if (kind === 'if') depth++;
      else if (kind === 'endif') depth--;
      else if (kind === 'else' && depth === 0) keep.add(i);
    }
  }
  return keep;
}

/** Every %if with its %else lines and %endif, by logical index. */
function conditionalBlocks(model: SpecModel): Array<{ open: number; elses: number[]; close: number }> {
  const blocks: Array<{ open: number; elses: number[]; close: number }> = [];
  const stack: Array<{ open: number; elses: number[] }> = [];
  model.logical.forEach((line, i) => {
    if (line.conditional === 'if') stack.push({ open: i, elses: [] });
    else if (line.conditional === 'else') stack.at(-1)?.elses.push(i);
    else if (line.conditional === 'endif') {
      const top = stack.pop();
      if (top) blocks.push({ ...top, close: i });
    }
  });
  return blocks;
}

/**
 * A conditional whose every line inside was deleted (blank lines aside) goes
 * too: removing the only subpackage an %if guarded leaves no empty %if/%endif.
 */
function pruneEmptied(model: SpecModel, deleted: Set<number>): void {
  const blocks = conditionalBlocks(model);
  let changed = true;
  while (changed) {
    changed = false;
    for (const block of blocks) {
      if (deleted.has(block.open)) continue;
      let removedSome = false;
      let empty = true;
      for (let i = block.open + 1; i < block.close && empty; i++) {
        if (deleted.has(i)) removedSome = true;
        else if (!isBlank(model, i) && !block.elses.includes(i)) empty = false;
      }
      if (!empty || !removedSome) continue;
      for (let i = block.open; i <= block.close; i++) deleted.add(i);
      changed = true;
    }
  }
}

/**
 * Deleting whole sections: header and body, except %if/%else/%endif lines whose
 * partner lies outside (they keep the spec's conditionals balanced), then any
 * conditional left empty. A blank line that separated the removed text from its
 * neighbours on both sides is dropped once, so no double gap remains.
 */
export function sectionDeletion(model: SpecModel, sections: readonly Section[]): SpecEdit[] {
  const deleted = new Set<number>();
  for (const section of sections) {
    const keep = straddlingDirectives(model, section);
    for (let i = section.header < 0 ? section.bodyStart : section.header; i < section.bodyEnd; i++) if (!keep.has(i)) deleted.add(i);
  }
  pruneEmptied(model, deleted);
  const edits: SpecEdit[] = [];
  let i = 0;
  while (i < model.logical.length) {
    if (!deleted.has(i)) {
      i++;
      continue;
    }
    const start = i;
    while (i < model.logical.length && deleted.has(i)) i++;
    let end = i;
    const blankBefore = start === 0 || isBlank(model, start - 1);
    const lastDeletedBlank = isBlank(model, end - 1);
    // Keep exactly one separating blank line where the removed run was framed by them.
    if (blankBefore && lastDeletedBlank === false && end < model.logical.length && isBlank(model, end)) end++;
    if (!blankBefore && lastDeletedBlank && (end === model.logical.length || !isBlank(model, end))) end--;
    if (end > start) edits.push({ kind: 'delete', start: model.logical[start]!.start, end: model.logical[end - 1]!.end });
    i = Math.max(i, end);
  }
  return edits;
}

/** Re-reads the current spec, computes edits against it and stores the result. */
export function editSpec(target: { spec: string }, build: (model: SpecModel) => SpecEdit[]): void {
  const model = parseSpec(target.spec);
  target.spec = applyEdits(model, build(model));
}
