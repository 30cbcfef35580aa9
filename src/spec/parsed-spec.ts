/**
 * Reading what only `rpmspec -P` shows: the %files lists and the Source/Patch
 * lines, after rpm has evaluated every conditional and expanded every macro.
 * This is not a spec parser for semantics: rpm did the evaluating, we only
 * split its output into sections.
 */

/** Section headers rpm recognises (build/parseSpec.c partList), longest first where one prefixes another. */
const SECTION_NAMES = [
  'package', 'prep', 'build', 'install', 'check', 'clean', 'preun', 'postun', 'pretrans', 'posttrans', 'preuntrans',
  'postuntrans', 'pre', 'post', 'files', 'changelog', 'description', 'triggerpostun', 'triggerprein', 'triggerun',
  'triggerin', 'trigger', 'verifyscript', 'sepolicy', 'filetriggerin', 'filetrigger', 'filetriggerun',
  'filetriggerpostun', 'transfiletriggerin', 'transfiletrigger', 'transfiletriggerun', 'transfiletriggerpostun',
  'end', 'patchlist', 'sourcelist', 'generate_buildrequires', 'conf',
];
const SECTION_RE = new RegExp(`^%(${SECTION_NAMES.join('|')})(?=\\s|$)`);

/** Ends each spec's `rpmspec -P` output, so that the output of a batch splits per spec. */
export const END_OF_SPEC_MARKER = '%triggerin -- strata-end-of-spec';
/**
 * rpm 4.18's -P drops the section header that follows %prep from its output, so
 * the lines of that section would look like part of %prep. A throwaway trigger
 * header put right before it is dropped instead. It only ever exists in the copy
 * strata gives `rpmspec -P`; queries and builds use the spec as rendered.
 */
export const PREP_SENTINEL = '%triggerun -- strata-prep-sentinel';

/** The text handed to `rpmspec -P` for one spec. */
export function specForParse(specText: string): string {
  const lines = `${specText.endsWith('\n') ? specText : `${specText}\n`}${END_OF_SPEC_MARKER}\n`.split('\n');
  const prep = lines.findIndex((line) => /^%prep(\s|$)/.test(line));
  if (prep >= 0) {
    const next = lines.findIndex((line, i) => i > prep && SECTION_RE.test(line));
    if (next >= 0) lines.splice(next, 0, PREP_SENTINEL);
  }
  return lines.join('\n');
}

/** Splits a batch's -P output into one text per spec (null when the count does not match). */
export function splitParsedOutput(output: string, expected: number): string[] | null {
  const parts: string[] = [];
  let current: string[] = [];
  for (const line of output.split('\n')) {
    if (line === END_OF_SPEC_MARKER) {
      parts.push(current.join('\n'));
      current = [];
    } else {
      current.push(line);
    }
  }
  return parts.length === expected ? parts : null;
}

export interface FileEntry {
  path: string;
  dir: boolean;
  config: boolean;
  ghost: boolean;
  doc: boolean;
}

export interface ParsedSpec {
  /** Package name → its %files entries (absolute paths only, %exclude removed). */
  files: Map<string, FileEntry[]>;
  /** Packages whose %files take a list from a file (`-f`), which only exists at build time. */
  fileLists: Map<string, string[]>;
  sources: Array<{ index: number; name: string; url: string }>;
  patches: Array<{ index: number; name: string }>;
}

/** Splits a line into words, keeping "quoted paths" and %attr(...) groups whole. */
function words(line: string): string[] {
  const out: string[] = [];
  let current = '';
  let depth = 0;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"' && depth === 0) {
      quoted = !quoted;
      continue;
    }
    if (!quoted && depth === 0 && /\s/.test(ch)) {
      if (current !== '') out.push(current);
      current = '';
      continue;
    }
    if (!quoted && ch === '(') depth++;
    if (!quoted && ch === ')') depth = Math.max(0, depth - 1);
    current += ch;
  }
  if (current !== '') out.push(current);
  return out;
}

/** One %files line → its file entries (directives stripped). */
export function parseFilesLine(line: string): { entries: FileEntry[]; excluded: string[] } {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return { entries: [], excluded: [] };
  const flags = { dir: false, config: false, ghost: false, doc: false, exclude: false, skip: false };
  const paths: string[] = [];
  for (const word of words(trimmed)) {
    const directive = /^%([a-z_]+)(\(.*\))?$/.exec(word);
    if (directive) {
      const name = directive[1]!;
      if (name === 'dir') flags.dir = true;
      else if (name === 'config') flags.config = true;
      else if (name === 'ghost') flags.ghost = true;
      else if (name === 'doc' || name === 'license' || name === 'readme') flags.doc = true;
      else if (name === 'exclude') flags.exclude = true;
      // %defattr and %docdir name no packaged file.
      else if (name === 'defattr' || name === 'docdir') flags.skip = true;
      continue;
    }
    paths.push(word);
  }
  if (flags.skip) return { entries: [], excluded: [] };
  // Relative %doc/%license names live under the package's doc folder: nothing a
  // BuildRequires names. Unexpanded macros (%{undefined}) are not paths either.
  const absolute = paths.filter((p) => p.startsWith('/'));
  if (flags.exclude) return { entries: [], excluded: absolute };
  return {
    entries: absolute.map((path) => ({ path: path.replace(/\/+$/, '') || '/', dir: flags.dir, config: flags.config, ghost: flags.ghost, doc: flags.doc })),
    excluded: [],
  };
}

/** `%files [-n NAME | SUFFIX] [-f FILE]…` → the package name and its -f lists. */
function filesTarget(header: string, mainName: string): { name: string; lists: string[] } {
  const args = words(header).slice(1);
  let name = mainName;
  const lists: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-n') name = args[++i] ?? name;
    else if (arg === '-f') lists.push(args[++i] ?? '');
    else if (!arg.startsWith('-')) name = `${mainName}-${arg}`;
  }
  return { name, lists };
}

const TAG_RE = /^(source|patch)(\d*)\s*:\s*(.*?)\s*$/i;

/** Reads one spec's -P output. `mainName` is the main package's name (from the query). */
export function readParsedSpec(text: string, mainName: string): ParsedSpec {
  const files = new Map<string, FileEntry[]>();
  const fileLists = new Map<string, string[]>();
  const excluded = new Map<string, Set<string>>();
  const sources: ParsedSpec['sources'] = [];
  const patches: ParsedSpec['patches'] = [];
  const next = { source: 0, patch: 0 };
  const add = (kind: 'source' | 'patch', explicit: string, url: string): void => {
    // rpm numbers an unnumbered Source/Patch one past the previous one of its kind.
    const index = explicit === '' ? next[kind] : Number(explicit);
    next[kind] = index + 1;
    const name = url.slice(url.lastIndexOf('/') + 1);
    if (kind === 'source') sources.push({ index, name, url });
    else patches.push({ index, name });
  };
  let section = 'preamble';
  let target = mainName;
  for (const line of text.split('\n')) {
    const header = SECTION_RE.exec(line);
    if (header) {
      section = header[1]!;
      if (section === 'files') {
        const parsed = filesTarget(line, mainName);
        target = parsed.name;
        if (!files.has(target)) files.set(target, []);
        if (parsed.lists.length > 0) fileLists.set(target, [...(fileLists.get(target) ?? []), ...parsed.lists]);
      }
      continue;
    }
    if (section === 'preamble' || section === 'package') {
      const tag = TAG_RE.exec(line);
      if (tag) add(tag[1]!.toLowerCase() as 'source' | 'patch', tag[2]!, tag[3]!);
    } else if (section === 'sourcelist' || section === 'patchlist') {
      const entry = line.trim();
      if (entry !== '' && !entry.startsWith('#')) add(section === 'sourcelist' ? 'source' : 'patch', '', entry);
    } else if (section === 'files') {
      const parsed = parseFilesLine(line);
      files.get(target)!.push(...parsed.entries);
      if (parsed.excluded.length > 0) {
        const set = excluded.get(target) ?? new Set<string>();
        for (const path of parsed.excluded) set.add(path);
        excluded.set(target, set);
      }
    }
  }
  for (const [name, set] of excluded) files.set(name, files.get(name)!.filter((entry) => !set.has(entry.path)));
  sources.sort((a, b) => a.index - b.index);
  patches.sort((a, b) => a.index - b.index);
  return { files, fileLists, sources, patches };
}
