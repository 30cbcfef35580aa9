/**
 * Glob patterns for `file` fields: `*` and `?` stay inside one path segment,
 * `**` spans segments, `[abc]` and `{a,b}` as in shells. Matched against
 * '/'-separated paths relative to the component folder (or archive root).
 */
const SPECIAL = /[*?[{]/;

export function isGlob(pattern: string): boolean {
  return SPECIAL.test(pattern);
}

export function globToRegExp(pattern: string): RegExp {
  let out = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        const slash = pattern[i + 2] === '/';
        out += slash ? '(?:[^/]*(?:/|$))*' : '.*';
        i += slash ? 2 : 1;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        const body = pattern.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = close;
      }
    } else if (c === '{') {
      braces++;
      out += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (c === ',' && braces > 0) out += '|';
    else out += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  if (braces > 0) throw new Error(`unbalanced '{' in glob '${pattern}'`);
  return new RegExp(`^${out}$`);
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
