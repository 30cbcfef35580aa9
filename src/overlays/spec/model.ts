/**
 * A spec-aware model of spec text, shared by every spec-* overlay type.
 *
 * The model never rewrites what it did not understand: it is an index over the
 * physical lines (logical lines joined the way rpm joins them, sections with
 * their subpackage, tags, conditionals), and edits are line insertions and
 * deletions computed from that index. Everything between the indexed points
 * stays byte for byte as the packager wrote it.
 */

/** Every section keyword rpm 4.18+ recognises at the start of a line. */
export const SECTION_NAMES = [
  '%package', '%description', '%prep', '%generate_buildrequires', '%conf', '%build', '%install', '%check',
  '%clean', '%files', '%changelog', '%pre', '%post', '%preun', '%postun', '%pretrans', '%posttrans',
  '%preuntrans', '%postuntrans', '%verifyscript', '%sepolicy', '%trigger', '%triggerin', '%triggerun',
  '%triggerprein', '%triggerpostun', '%filetriggerin', '%filetriggerun', '%filetriggerpostun',
  '%transfiletriggerin', '%transfiletriggerun', '%transfiletriggerpostun', '%patchlist', '%sourcelist', '%end',
] as const;

/** Sections that belong to the build as a whole, never to a subpackage. */
export const PACKAGELESS_SECTIONS = new Set([
  '%prep', '%generate_buildrequires', '%conf', '%build', '%install', '%check', '%clean', '%changelog',
  '%patchlist', '%sourcelist', '%end',
]);

const SECTION_SET = new Set<string>(SECTION_NAMES);

/**
 * Macros that expand to whole sections (`%ldconfig_scriptlets` becomes %post and
 * %postun). rpm expands a line before looking for section headers, so such a
 * line ends the section above it; treating it as a boundary keeps it from being
 * edited or removed as part of that section.
 */
const SECTION_MACROS = new Set(['%ldconfig_scriptlets', '%ldconfig_post', '%ldconfig_postun', '%python_extras_subpkg', '%pyproject_extras_subpkg']);

/** Header options that consume the next word (so it is not taken for a package name). */
const OPTIONS_WITH_VALUE = new Set(['-f', '-p', '-l', '-P', '-e']);

export type ConditionalKind = 'if' | 'else' | 'endif';

export interface LogicalLine {
  /** First physical line (0-based). */
  start: number;
  /** One past the last physical line. */
  end: number;
  /** The physical lines joined with '\n'. */
  text: string;
  conditional: ConditionalKind | null;
  /** The line carries on a macro body from the lines above (never a header or a tag). */
  continuation: boolean;
}

export interface PackageRef {
  /** The word on the header line: a suffix (`devel`) or, with `-n`, a full name. */
  word: string;
  fullName: boolean;
}

export interface Section {
  /** '%package' for subpackage preambles; '' for the main preamble (before the first header). */
  name: string;
  /** null: the main package. */
  pkg: PackageRef | null;
  /** Index into `logical` of the header line; -1 for the main preamble. */
  header: number;
  /** Logical line range of the body: [bodyStart, bodyEnd). */
  bodyStart: number;
  bodyEnd: number;
}

export interface TagLine {
  /** Logical line index. */
  line: number;
  /** The tag as written, qualifier included: `Requires(post)`. */
  tag: string;
  /** Lower-cased, whitespace-free form used to compare tags. */
  key: string;
  value: string;
  /** Text before the value (tag, colon and alignment), kept when the value changes. */
  prefix: string;
}

export interface SpecModel {
  lines: string[];
  /** Whether the text ended with a newline. */
  finalNewline: boolean;
  logical: LogicalLine[];
  sections: Section[];
  /** The main package's Name, with simple macros expanded (for matching subpackage names). */
  mainName: string | null;
}

export function parseSpec(text: string): SpecModel {
  const finalNewline = text.endsWith('\n');
  const lines = (finalNewline ? text.slice(0, -1) : text).split('\n');
  if (text === '') lines.length = 0;
  const logical = joinLogicalLines(lines);
  const sections = findSections(logical);
  const model: SpecModel = { lines, finalNewline, logical, sections, mainName: null };
  model.mainName = resolveMainName(model);
  return model;
}

export function specText(lines: readonly string[], finalNewline = true): string {
  if (lines.length === 0) return '';
  return lines.join('\n') + (finalNewline ? '\n' : '');
}

/**
 * rpm reads a line as continuing onto the next while it ends in a backslash or
 * leaves a `%{`, `%(` or `%[` open (Fedora's `%global _description %{expand: …}`
 * spans lines that way). Lines inside such a run are never headers or tags. A
 * conditional, though, is one on every physical line, even inside such a run
 * (rpm 4.18 reports "Unclosed %if" for an `%if` line in a `%{expand:` body), so
 * it always stands alone; the lines after it still continue the run.
 */
function joinLogicalLines(lines: string[]): LogicalLine[] {
  const out: LogicalLine[] = [];
  let depth = 0;
  let backslash = false;
  let i = 0;
  const advance = (line: string): void => {
    depth = openMacroDepth(line, depth);
    backslash = line.endsWith('\\');
  };
  while (i < lines.length) {
    const start = i;
    const continuation = depth > 0 || backslash;
    const kind = conditionalKind(lines[i]!);
    if (kind !== null) {
      advance(lines[i]!);
      i++;
    } else {
      do {
        advance(lines[i]!);
        i++;
      } while ((backslash || depth > 0) && i < lines.length && conditionalKind(lines[i]!) === null);
    }
    out.push({ start, end: i, text: lines.slice(start, i).join('\n'), conditional: kind, continuation });
  }
  return out;
}

function openMacroDepth(line: string, depth: number): number {
  for (let k = 0; k < line.length; k++) {
    const c = line[k];
    if (c === '\\') {
      k++;
    } else if (c === '%') {
      const next = line[k + 1];
      if (next === '%') k++;
      else if (next === '{' || next === '(' || next === '[') {
        depth++;
        k++;
      }
    } else if (depth > 0 && (c === '{' || c === '(' || c === '[')) {
      depth++;
    } else if (depth > 0 && (c === '}' || c === ')' || c === ']')) {
      depth--;
    }
  }
  return depth;
}

export function conditionalKind(line: string): ConditionalKind | null {
  const m = /^\s*%(if|ifarch|ifnarch|ifos|ifnos|elif|elifarch|elifos|else|endif)(?=\s|$)/.exec(line);
  if (!m) return null;
  const word = m[1]!;
  if (word === 'endif') return 'endif';
  if (word === 'else' || word.startsWith('elif')) return 'else';
  return 'if';
}

/** The section keyword a line opens (or the section-making macro it calls), if any. */
export function sectionKeyword(line: string): string | null {
  const m = /^%([a-z_]+)(?=\s|$)/.exec(line);
  if (m && SECTION_SET.has(`%${m[1]}`)) return `%${m[1]}`;
  const macro = /^%\{?\??([a-z_]+)\}?(?=\s|$)/.exec(line);
  return macro && SECTION_MACROS.has(`%${macro[1]}`) ? `%${macro[1]}` : null;
}

/**
 * The subpackage a section header names: `-n NAME` or the first plain word. A
 * word that is a macro (`%description %_description`, Fedora's shared text) is
 * an argument, not a package: a suffix is never written as a macro in practice.
 */
export function headerPackage(header: string): PackageRef | null {
  const words = header.trim().split(/\s+/).slice(1);
  let positional: string | null = null;
  for (let k = 0; k < words.length; k++) {
    const word = words[k]!;
    if (word === '--') break;
    if (word === '-n') {
      const name = words[k + 1];
      return name === undefined ? null : { word: name, fullName: true };
    }
    if (word.startsWith('-n') && word.length > 2) return { word: word.slice(2), fullName: true };
    if (OPTIONS_WITH_VALUE.has(word)) {
      k++;
      continue;
    }
    if (word.startsWith('-') || word.startsWith('%')) continue;
    positional ??= word;
  }
  return positional === null ? null : { word: positional, fullName: false };
}

function findSections(logical: LogicalLine[]): Section[] {
  const sections: Section[] = [{ name: '', pkg: null, header: -1, bodyStart: 0, bodyEnd: logical.length }];
  logical.forEach((line, index) => {
    if (line.continuation) return;
    const name = sectionKeyword(line.text);
    if (name === null) return;
    sections[sections.length - 1]!.bodyEnd = index;
    const pkg = PACKAGELESS_SECTIONS.has(name) ? null : headerPackage(line.text.split('\n')[0]!);
    sections.push({ name, pkg, header: index, bodyStart: index + 1, bodyEnd: logical.length });
  });
  return sections;
}

const TAG_RE = /^(\s*([A-Za-z][A-Za-z0-9]*)(\(\s*[^)]*\))?\s*:\s*)(.*)$/;

/** A logical line read as a preamble tag, when it is one. */
export function parseTag(model: SpecModel, index: number): TagLine | null {
  const line = model.logical[index]!;
  if (line.end - line.start !== 1 || line.continuation) return null;
  const m = TAG_RE.exec(line.text);
  if (!m) return null;
  const tag = `${m[2]}${m[3] ?? ''}`;
  return { line: index, tag, key: tagKey(tag), value: m[4]!, prefix: m[1]! };
}

export function tagKey(tag: string): string {
  return tag.replace(/\s+/g, '').toLowerCase();
}

/** `Source12` → `source`: the family insert-tag groups tags by. */
export function tagFamily(tag: string): string {
  return tag.replace(/\(.*$/, '').toLowerCase().replace(/[0-9]+$/, '');
}

/** Tags of one preamble section, in order. */
export function sectionTags(model: SpecModel, section: Section): TagLine[] {
  const tags: TagLine[] = [];
  for (let i = section.bodyStart; i < section.bodyEnd; i++) {
    const tag = parseTag(model, i);
    if (tag) tags.push(tag);
  }
  return tags;
}

/** One-line `%global`/`%define` values, enough to resolve `Name: %{srcname}`. */
function simpleMacros(model: SpecModel): Map<string, string> {
  const macros = new Map<string, string>();
  const main = model.sections[0]!;
  for (let i = main.bodyStart; i < main.bodyEnd; i++) {
    const m = /^\s*%(?:global|define)\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$/.exec(model.logical[i]!.text);
    if (m && !m[2]!.includes('\n')) macros.set(m[1]!, m[2]!.trim());
  }
  return macros;
}

/** Expands `%name`, `%{name}` and `%{?name}` (empty when undefined) from `macros`; leaves anything else as written. */
export function expandSimple(text: string, macros: Map<string, string>, depth = 0): string {
  if (depth > 8) return text;
  const out = text.replace(/%\{(\?)?([A-Za-z_][A-Za-z0-9_]*)\}|%([A-Za-z_][A-Za-z0-9_]*)/g, (all, optional: string | undefined, braced: string | undefined, bare: string | undefined) => {
    const value = macros.get((braced ?? bare)!);
    if (value !== undefined) return value;
    return optional ? '' : all;
  });
  return out === text ? out : expandSimple(out, macros, depth + 1);
}

function resolveMainName(model: SpecModel): string | null {
  const name = sectionTags(model, model.sections[0]!).find((t) => t.key === 'name');
  if (!name) return null;
  const macros = simpleMacros(model);
  const value = expandSimple(name.value.trim(), macros);
  macros.set('name', value);
  return value;
}

/** The full name of a section's package (`foo-devel` for `%package devel` in foo). */
export function packageFullName(model: SpecModel, pkg: PackageRef | null): string | null {
  if (pkg === null) return model.mainName;
  const macros = simpleMacros(model);
  if (model.mainName !== null) macros.set('name', model.mainName);
  const word = expandSimple(pkg.word, macros);
  if (pkg.fullName) return word;
  return model.mainName === null ? null : `${model.mainName}-${word}`;
}

/** `package` naming the main package: absent, or its own name (`%post -n %{name}` style). */
export function namesMainPackage(model: SpecModel, requested: string | undefined): boolean {
  return requested === undefined || requested === '' || (model.mainName !== null && requested === model.mainName);
}

/**
 * Whether a section belongs to the package an overlay names. `package` may be
 * written as on the header (`devel`, or the `-n` name) or as the full name
 * (`foo-devel`); no package (or the main package's own name) means the main
 * package, which a header may also name with `-n %{name}`.
 */
export function sectionInPackage(model: SpecModel, section: Section, requested: string | undefined): boolean {
  const full = section.pkg === null ? model.mainName : packageFullName(model, section.pkg);
  const isMain = section.pkg === null || (full !== null && full === model.mainName);
  if (namesMainPackage(model, requested)) return isMain;
  if (section.pkg === null || isMain) return false;
  if (section.pkg.word === requested) return true;
  return full !== null && (full === requested || (model.mainName !== null && full === `${model.mainName}-${requested}`));
}

/** The names every subpackage can be addressed by (header word and full name), for "did you mean". */
export function subpackageNames(model: SpecModel, fullOnly = false): string[] {
  const names = new Set<string>();
  for (const section of model.sections) {
    if (section.name !== '%package' || section.pkg === null) continue;
    const full = packageFullName(model, section.pkg);
    if (!fullOnly || full === null) names.add(section.pkg.word);
    if (full !== null) names.add(full);
  }
  return [...names].sort();
}

/**
 * Sections with this name in this package. `%package` without a package means
 * the main preamble.
 */
export function sectionsNamed(model: SpecModel, name: string, pkg: string | undefined): Section[] {
  if (name === '%package' && namesMainPackage(model, pkg)) return [model.sections[0]!];
  return model.sections.filter((s) => s.name === name && sectionInPackage(model, s, pkg));
}

/** The preamble sections of a package (several when `%package x` sits in %if/%else). */
export function preambles(model: SpecModel, pkg: string | undefined): Section[] {
  return sectionsNamed(model, '%package', pkg);
}

export function describeSection(name: string, pkg: string | undefined): string {
  const where = name === '%package' ? (pkg ? `the preamble of package ${pkg}` : 'the main preamble') : name;
  return name !== '%package' && pkg ? `${where} of package ${pkg}` : where;
}
