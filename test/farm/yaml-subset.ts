/**
 * A reader for the small subset of YAML that the manifests in deploy/ are
 * written in (no YAML library is installed): block mappings and block
 * sequences by indentation, `- ` items that open a mapping, plain, single- and
 * double-quoted scalars, `#` comments, `---` between documents. Anything else
 * (anchors, flow collections, multi-line scalars, tags) is an error rather
 * than a silent misreading, so the manifests stay within what this test checks.
 */

export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  number: number;
}

function stripComment(text: string): string {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      return text.slice(0, i).trimEnd();
    }
  }
  return text.trimEnd();
}

function scalar(raw: string, line: number): string {
  const text = raw.trim();
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2) throw new Error(`line ${line}: unterminated string`);
    return JSON.parse(text) as string;
  }
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new Error(`line ${line}: unterminated string`);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (/^[[{&*!|>%@`]/.test(text)) throw new Error(`line ${line}: '${text}' is outside the YAML subset deploy/ uses`);
  return text;
}

export function parseYamlDocuments(source: string): YamlValue[] {
  const documents: Line[][] = [[]];
  source.split('\n').forEach((raw, i) => {
    if (raw.includes('\t')) throw new Error(`line ${i + 1}: tabs are not YAML indentation`);
    if (/^---\s*$/.test(raw)) {
      documents.push([]);
      return;
    }
    const text = stripComment(raw);
    if (text.trim() === '') return;
    documents.at(-1)!.push({ indent: text.length - text.trimStart().length, text: text.trim(), number: i + 1 });
  });
  return documents.filter((d) => d.length > 0).map((lines) => {
    const state = { at: 0 };
    const value = parseBlock(lines, state, lines[0]!.indent);
    if (state.at < lines.length) throw new Error(`line ${lines[state.at]!.number}: unexpected indentation`);
    return value;
  });
}

function parseBlock(lines: Line[], state: { at: number }, indent: number): YamlValue {
  const first = lines[state.at]!;
  return first.text.startsWith('- ') || first.text === '-' ? parseSequence(lines, state, indent) : parseMapping(lines, state, indent);
}

function parseSequence(lines: Line[], state: { at: number }, indent: number): YamlValue[] {
  const out: YamlValue[] = [];
  while (state.at < lines.length && lines[state.at]!.indent === indent && lines[state.at]!.text.startsWith('-')) {
    const line = lines[state.at]!;
    const rest = line.text.slice(1).trimStart();
    if (rest === '') {
      state.at++;
      out.push(parseBlock(lines, state, lines[state.at]!.indent));
    } else if (/^[^"'][^:]*:(\s|$)/.test(rest)) {
      // "- key: value" opens a mapping whose keys sit at the item's content column.
      const column = indent + (line.text.length - rest.length);
      lines[state.at] = { indent: column, text: rest, number: line.number };
      out.push(parseMapping(lines, state, column));
    } else {
      out.push(scalar(rest, line.number));
      state.at++;
    }
  }
  return out;
}

function parseMapping(lines: Line[], state: { at: number }, indent: number): { [key: string]: YamlValue } {
  const out: { [key: string]: YamlValue } = {};
  while (state.at < lines.length && lines[state.at]!.indent === indent) {
    const line = lines[state.at]!;
    const match = /^([A-Za-z0-9_.\/-]+):(?:\s+(.*))?$/.exec(line.text);
    if (!match) throw new Error(`line ${line.number}: expected 'key: value', found '${line.text}'`);
    const [, key, value] = match;
    if (key! in out) throw new Error(`line ${line.number}: duplicate key '${key}'`);
    state.at++;
    if (value !== undefined && value !== '') {
      out[key!] = scalar(value, line.number);
    } else if (state.at < lines.length && lines[state.at]!.indent > indent) {
      out[key!] = parseBlock(lines, state, lines[state.at]!.indent);
    } else if (state.at < lines.length && lines[state.at]!.indent === indent && lines[state.at]!.text.startsWith('- ')) {
      // A sequence may sit at its key's own indentation.
      out[key!] = parseSequence(lines, state, indent);
    } else {
      out[key!] = '';
    }
  }
  return out;
}
