/**
 * Tag edits in a package's preamble, shared by the spec-*-tag types and
 * patch-add. A package whose `%package` line sits in both branches of an
 * %if/%else has several preambles; every edit applies to each of them.
 */
import { OverlayFailure } from '../types/type.js';
import { contentEndLine, lineRange, unconditionalAfter, type SpecEdit } from './edit.js';
import { preambles, sectionTags, subpackageNames, tagFamily, tagKey, type Section, type SpecModel, type TagLine } from './model.js';
import { didYouMean } from '../../util/suggest.js';

export function packageLabel(pkg: string | undefined): string {
  return pkg ? `package ${pkg}` : 'the main package';
}

/** The package's preamble sections, or a failure naming the subpackages there are. */
export function requirePreambles(model: SpecModel, pkg: string | undefined): Section[] {
  const found = preambles(model, pkg);
  if (found.length > 0) return found;
  const names = subpackageNames(model, true);
  throw new OverlayFailure(
    `the spec has no subpackage '${pkg}'${didYouMean(pkg ?? '', subpackageNames(model))}`,
    'package',
    names.length > 0 ? `its subpackages: ${names.join(', ')}` : 'the spec has no subpackages',
  );
}

/** `Tag:` padded to the value column the neighbouring tag uses, so the preamble stays aligned. */
export function formatTag(tag: string, value: string, neighbour: TagLine | undefined): string {
  const head = `${tag}:`;
  const width = neighbour ? neighbour.prefix.length : 0;
  return `${head}${' '.repeat(Math.max(1, width - head.length))}${value}`;
}

export function addTagEdits(model: SpecModel, pkg: string | undefined, tag: string, value: string): SpecEdit[] {
  return requirePreambles(model, pkg).map((section) => {
    const tags = sectionTags(model, section);
    return { kind: 'insert', at: contentEndLine(model, section), lines: [formatTag(tag, value, tags.at(-1))] };
  });
}

/**
 * After the last tag of the same family (else of the first `nearFamilies` that
 * occurs), else after the last tag, else at the end of the preamble.
 */
export function insertTagEdits(model: SpecModel, pkg: string | undefined, tag: string, value: string, nearFamilies: string[] = []): SpecEdit[] {
  const families = [tagFamily(tag), ...nearFamilies];
  return requirePreambles(model, pkg).map((section) => {
    const tags = sectionTags(model, section);
    const anchor = families.map((family) => tags.filter((t) => tagFamily(t.tag) === family).at(-1)).find((t) => t !== undefined) ?? tags.at(-1);
    const at = anchor ? unconditionalAfter(model, section, anchor.line) : contentEndLine(model, section);
    return { kind: 'insert', at, lines: [formatTag(tag, value, anchor)] };
  });
}

function matchingTags(model: SpecModel, pkg: string | undefined, tag: string): TagLine[] {
  const key = tagKey(tag);
  return requirePreambles(model, pkg).flatMap((section) => sectionTags(model, section).filter((t) => t.key === key));
}

/** Every instance gets the new value; the tag's own spelling and alignment stay. */
export function updateTagEdits(model: SpecModel, pkg: string | undefined, tag: string, value: string): SpecEdit[] {
  return matchingTags(model, pkg, tag).map((t) => ({ kind: 'replace', ...lineRange(model, t.line), lines: [`${t.prefix}${value}`] }));
}

/** Values compare as azldev compares them (ignoring case), and ignoring how much whitespace separates words. */
function sameValue(a: string, b: string): boolean {
  const norm = (v: string): string => v.trim().replace(/\s+/g, ' ').toLowerCase();
  return norm(a) === norm(b);
}

export function removeTagEdits(model: SpecModel, pkg: string | undefined, tag: string, value: string | undefined): SpecEdit[] {
  return matchingTags(model, pkg, tag)
    .filter((t) => value === undefined || sameValue(t.value, value))
    .map((t) => ({ kind: 'delete', ...lineRange(model, t.line) }));
}

/** Values the tag has in that package, for a failure message. */
export function existingValues(model: SpecModel, pkg: string | undefined, tag: string): string[] {
  return matchingTags(model, pkg, tag).map((t) => `${t.tag}: ${t.value}`);
}

export function tagsIn(model: SpecModel, pkg: string | undefined): string[] {
  return [...new Set(requirePreambles(model, pkg).flatMap((s) => sectionTags(model, s).map((t) => t.tag)))];
}
