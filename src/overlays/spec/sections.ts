/** Finding the sections an overlay addresses, or saying precisely why there are none. */
import { OverlayFailure } from '../types/type.js';
import { bodyStartLine } from './edit.js';
import { describeSection, packageFullName, sectionInPackage, sectionsNamed, type Section, type SpecModel } from './model.js';
import { requirePreambles } from './tags.js';

export function requireSections(model: SpecModel, name: string, pkg: string | undefined): Section[] {
  if (pkg) requirePreambles(model, pkg);
  const found = sectionsNamed(model, name, pkg);
  if (found.length > 0) return found;
  const holders = model.sections
    .filter((s) => s.name === name)
    .map((s) => (s.pkg === null ? 'the main package' : packageFullName(model, s.pkg) ?? s.pkg.word));
  const own = [...new Set(model.sections.filter((s) => s.name !== '' && s.pkg !== null && sectionInPackage(model, s, pkg)).map((s) => s.name))].sort();
  throw new OverlayFailure(
    `the spec has no ${describeSection(name, pkg)}`,
    'section',
    holders.length > 0 ? `${name} exists for: ${[...new Set(holders)].join(', ')}` : `the spec has no ${name} section at all`,
    pkg && own.length > 0 ? [`package ${pkg} has: ${own.join(' ')}`] : [],
  );
}

/** Physical lines of a section's body. */
export function bodySpan(model: SpecModel, section: Section): { start: number; end: number } {
  const start = bodyStartLine(model, section);
  const end = section.bodyEnd > section.bodyStart ? model.logical[section.bodyEnd - 1]!.end : start;
  return { start, end };
}
