/**
 * Regular expressions in overlays. azldev compiles them with Go's RE2, so the
 * RE2 spellings people write there are accepted too: a leading `(?i)`/`(?s)`/
 * `(?m)` flag group becomes JavaScript flags, `(?P<name>` a named group.
 */
export function compileRegex(source: string): RegExp {
  let flags = 'g';
  let body = source;
  const lead = /^\(\?([imsU]+)\)/.exec(body);
  if (lead) {
    for (const flag of lead[1]!) if (flag !== 'U' && !flags.includes(flag)) flags += flag;
    body = body.slice(lead[0].length);
  }
  body = body.replace(/\(\?P</g, '(?<').replace(/\\z/g, '$(?![\\s\\S])');
  return new RegExp(body, flags);
}

/** Why a pattern does not compile, or null. */
export function regexProblem(source: string): string | null {
  try {
    compileRegex(source);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Replaces every match literally (no `$1` expansion, as azldev) and counts matches. */
export function replaceLiteral(text: string, re: RegExp, replacement: string): { text: string; count: number } {
  let count = 0;
  const out = text.replace(re, () => {
    count++;
    return replacement;
  });
  return { text: out, count };
}
