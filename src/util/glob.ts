/**
 * Shell-style globs as regular expressions over '/'-separated paths: `*` and
 * `?` stay inside one segment, `[abc]`/`[!abc]` and `{a,b}` as in shells.
 */
export interface GlobOptions {
  /** `**` spans segments (overlay `file` fields); without it `**` is `*` (rpm's %files, like glob(3)). */
  globstar?: boolean;
  /** Throw on an unbalanced `{` (patterns users write) instead of taking it literally (patterns read from specs). */
  strict?: boolean;
}

export function globToRegExp(pattern: string, options: GlobOptions = {}): RegExp {
  const { globstar = true, strict = true } = options;
  let out = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (globstar && pattern[i + 1] === '*') {
        const slash = pattern[i + 2] === '/';
        out += slash ? '(?:[^/]*(?:/|$))*' : '.*';
        i += slash ? 2 : 1;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      // A ']' right after '[' belongs to the set, as in fnmatch.
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        out += `[${pattern.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
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
  if (braces > 0) {
    if (strict) throw new Error(`unbalanced '{' in glob '${pattern}'`);
    return new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  }
  return new RegExp(`^${out}$`);
}
