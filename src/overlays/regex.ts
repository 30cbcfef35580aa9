/**
 * Regular expressions in overlays. azldev compiles them with Go's RE2, so the
 * RE2 spellings people write there are accepted too: a leading `(?i)`/`(?s)`/
 * `(?m)` flag group becomes JavaScript flags, `(?P<name>` a named group,
 * `\A`/`\z` the start and end of the text, `\Q…\E` quoted text, and POSIX classes such as
 * `[[:space:]]` their JavaScript equivalents (JavaScript would otherwise read
 * them as a different, valid class and match the wrong text).
 */
const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-/:-@[-`{-~', space: '\\s',
  upper: 'A-Z', word: '\\w', xdigit: '0-9A-Fa-f',
};

/** RE2 syntax to JavaScript's, escape by escape, so escaped text is never rewritten. */
function translate(body: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const next = body[i + 1] ?? '';
      i++;
      if (!inClass && next === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && next === 'z') out += '(?![\\s\\S])';
      else if (next === 'Q') {
        // \Q…\E quotes literal text.
        const end = body.indexOf('\\E', i + 1);
        const literal = body.slice(i + 1, end < 0 ? body.length : end);
        out += literal.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        i = end < 0 ? body.length : end + 1;
      } else if (next === 'p' || next === 'P' || next === 'C') {
        throw new SyntaxError(`\\${next} (${next === 'C' ? 'any byte' : 'Unicode classes'}) is not supported in overlay regexes`);
      } else out += `\\${next}`;
    } else if (inClass && body.startsWith('[:', i)) {
      const close = body.indexOf(':]', i + 2);
      const name = close < 0 ? '' : body.slice(i + 2, close);
      const range = POSIX_CLASSES[name];
      if (range === undefined) throw new SyntaxError(`unknown POSIX class [:${name}:]`);
      out += range;
      i = close + 1;
    } else if (c === '[' && !inClass) {
      inClass = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal in RE2 (JavaScript would read an empty class).
      const lead = body[i + 1] === '^' ? (body[i + 2] === ']' ? '^]' : '^') : body[i + 1] === ']' ? ']' : '';
      out += lead.replace(']', '\\]');
      i += lead.length;
    } else if (c === ']' && inClass) {
      inClass = false;
      out += c;
    } else if (!inClass && body.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else out += c;
  }
  return out;
}

export function compileRegex(source: string): RegExp {
  let flags = 'g';
  let body = source;
  const lead = /^\(\?([imsU]+)\)/.exec(body);
  if (lead) {
    if (lead[1]!.includes('U')) throw new SyntaxError("RE2's ungreedy flag (?U) is not supported; write lazy quantifiers (*?, +?)");
    for (const flag of lead[1]!) if (!flags.includes(flag)) flags += flag;
    body = body.slice(lead[0].length);
  }
  return new RegExp(translate(body), flags);
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
