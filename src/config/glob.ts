/**
 * File globs as config files write them: '/'-separated, relative to a base
 * folder, with `*`, `?`, `[...]` (`[!...]` negated) inside one path segment and
 * `**` for any number of folders. Wildcards do not match a leading dot, so
 * hidden files and folders are only found when the pattern names the dot.
 * Matching walks only below the pattern's fixed prefix, one readdir per folder,
 * which keeps a tree of thousands of spec folders well under a second.
 */
import { readdirSync, statSync } from 'node:fs';
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

function entries(dir: string): Array<{ name: string; dir: boolean; file: boolean }> {
  let dirents;
  try {
    dirents = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return dirents.map((d) => {
    if (!d.isSymbolicLink()) return { name: d.name, dir: d.isDirectory(), file: d.isFile() };
    const target = statSync(join(dir, d.name), { throwIfNoEntry: false });
    return { name: d.name, dir: target?.isDirectory() ?? false, file: target?.isFile() ?? false };
  });
}

/**
 * Files below `base` matching `pattern`, as paths relative to `base`, sorted by
 * path so that merge order never depends on the order readdir returns names in.
 * Synchronous on purpose: thousands of small readdir calls cost several times
 * more through the thread pool than directly, and config loading waits for them
 * anyway.
 */
export function expandGlob(base: string, pattern: string): string[] {
  const parts = pattern.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.length === 0) return [];
  let fixed = 0;
  while (fixed < parts.length - 1 && !hasGlobMagic(parts[fixed]!)) fixed++;
  const regexes = parts.map((part) => (part === '**' ? null : segmentRegex(part)));
  const found: string[] = [];
  const seen = new Set<string>();
  const add = (rel: string): void => {
    if (!seen.has(rel)) seen.add(rel), found.push(rel);
  };
  const child = (rel: string, name: string): string => (rel === '' ? name : `${rel}/${name}`);

  const visit = (rel: string, index: number): void => {
    const last = index === parts.length - 1;
    const re = regexes[index];
    if (!re && last) return visitAll(rel);
    const listing = entries(join(base, rel));
    if (!re) {
      visit(rel, index + 1);
      for (const e of listing) if (e.dir && !e.name.startsWith('.')) visit(child(rel, e.name), index);
      return;
    }
    for (const e of listing) {
      if (!re.test(e.name)) continue;
      if (last) {
        if (e.file) add(child(rel, e.name));
      } else if (e.dir) visit(child(rel, e.name), index + 1);
    }
  };

  /** Every non-hidden file below `rel` (a trailing `**`). */
  const visitAll = (rel: string): void => {
    for (const e of entries(join(base, rel))) {
      if (e.name.startsWith('.')) continue;
      if (e.dir) visitAll(child(rel, e.name));
      else if (e.file) add(child(rel, e.name));
    }
  };

  visit(parts.slice(0, fixed).join('/'), fixed);
  return sortPaths(found);
}

/** Sorted by the bytes of each path (UTF-16 order differs for some characters). */
export function sortPaths(paths: string[]): string[] {
  return paths
    .map((path) => ({ path, bytes: Buffer.from(path) }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
    .map(({ path }) => path);
}
