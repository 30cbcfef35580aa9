/**
 * Glob patterns for `file` fields (src/util/glob.ts with `**`), matched against
 * '/'-separated paths relative to the component folder (or archive root).
 */
import { globToRegExp } from '../../util/glob.js';

export { globToRegExp };

const SPECIAL = /[*?[{]/;

export function isGlob(pattern: string): boolean {
  return SPECIAL.test(pattern);
}

/** The paths a pattern selects, in the order given (callers pass sorted paths). */
export function matchGlob(pattern: string, paths: Iterable<string>): string[] {
  const re = globToRegExp(pattern);
  return [...paths].filter((path) => re.test(path));
}

/** A relative path that stays inside its root: no absolute path, no '..' segment. */
export function isConfinedRelative(path: string): boolean {
  if (path === '' || path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path)) return false;
  return !path.split(/[\\/]/).some((segment) => segment === '..');
}
