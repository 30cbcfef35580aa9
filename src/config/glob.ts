/**
 * File globs as config files write them: '/'-separated, relative to a base
 * folder, with `*`, `?`, `[...]` (`[!...]` negated) inside one path segment and
 * `**` for any number of folders. Wildcards do not match a leading dot, so
 * hidden files and folders are only found when the pattern names the dot.
 * Matching walks only below the pattern's fixed prefix, one readdir per folder,
 * which keeps a tree of thousands of spec folders well under a second.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const MAGIC = /[*?[]/;

export function hasGlobMagic(pattern: string): boolean {
  return MAGIC.test(pattern);
}

/** Regular-expression source for one path segment. */
function segmentSource(segment: string): string {
  let out = segment.startsWith('.') ? '' : '(?!\\.)';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      out += `[${negated ? '^/' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else out += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return out;
}

function segmentRegex(segment: string): RegExp {
  return new RegExp(`^${segmentSource(segment)}$`);
}

/** A predicate telling whether a relative '/'-separated path matches `pattern`. */
export function globMatcher(pattern: string): (path: string) => boolean {
  const parts = pattern.split('/').filter((part) => part !== '' && part !== '.');
  let source = '^';
  parts.forEach((part, n) => {
    const last = n === parts.length - 1;
    if (part === '**') source += last ? '.*' : '(?:(?!\\.)[^/]+/)*';
    else source += segmentSource(part) + (last ? '' : '/');
  });
  const re = new RegExp(`${source}$`);
  return (path) => re.test(path);
}

async function entries(dir: string): Promise<Array<{ name: string; dir: boolean; file: boolean }>> {
  let dirents;
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return Promise.all(
    dirents.map(async (d) => {
      if (!d.isSymbolicLink()) return { name: d.name, dir: d.isDirectory(), file: d.isFile() };
      const target = await stat(join(dir, d.name)).catch(() => undefined);
      return { name: d.name, dir: target?.isDirectory() ?? false, file: target?.isFile() ?? false };
    }),
  );
}

/**
 * Files below `base` matching `pattern`, as paths relative to `base`, sorted by
 * path so that merge order never depends on the order readdir returns names in.
 */
export async function expandGlob(base: string, pattern: string): Promise<string[]> {
  const parts = pattern.split('/').filter((part) => part !== '' && part !== '.');
  let fixed = 0;
  while (fixed < parts.length - 1 && !hasGlobMagic(parts[fixed]!)) fixed++;
  const found = new Set<string>();

  async function visit(rel: string[], index: number): Promise<void> {
    const part = parts[index]!;
    const last = index === parts.length - 1;
    if (part === '**' && last) return visitAll(rel);
    const listing = await entries(join(base, ...rel));
    if (part === '**') {
      await visit(rel, index + 1);
      await Promise.all(listing.filter((e) => e.dir && !e.name.startsWith('.')).map((e) => visit([...rel, e.name], index)));
      return;
    }
    const re = segmentRegex(part);
    await Promise.all(
      listing
        .filter((e) => re.test(e.name))
        .map(async (e) => {
          if (last) {
            if (e.file) found.add([...rel, e.name].join('/'));
          } else if (e.dir) await visit([...rel, e.name], index + 1);
        }),
    );
  }

  /** Every non-hidden file below `rel` (a trailing `**`). */
  async function visitAll(rel: string[]): Promise<void> {
    const listing = await entries(join(base, ...rel));
    await Promise.all(
      listing.filter((e) => !e.name.startsWith('.')).map((e) => (e.dir ? visitAll([...rel, e.name]) : e.file ? found.add([...rel, e.name].join('/')) : undefined)),
    );
  }

  if (parts.length === 0) return [];
  await visit(parts.slice(0, fixed), fixed);
  return [...found].sort(comparePaths);
}

export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
