import { OverlayFailure } from '../types/type.js';
import { isGlob, matchGlob } from './glob.js';
import type { FileSet } from './tree.js';

/** The files a `file` pattern selects; none is a failure that lists what is there. */
export function selectFiles(set: FileSet, pattern: string): string[] {
  const paths = set.paths();
  const matched = isGlob(pattern) ? matchGlob(pattern, paths) : paths.filter((p) => p === pattern);
  if (matched.length > 0) return matched;
  const shown = paths.slice(0, 15);
  throw new OverlayFailure(
    `file '${pattern}' matched no file in ${set.label}`,
    'file',
    paths.length === 0 ? `${set.label} has no files` : undefined,
    paths.length === 0 ? [] : [`files there: ${shown.join(', ')}${paths.length > shown.length ? `, … (${paths.length} in all)` : ''}`],
  );
}

/** Text of a file, decoded so that writing it back changes no byte we did not edit. */
export function decodeText(data: Buffer): { text: string; encoding: BufferEncoding } {
  const utf8 = data.toString('utf8');
  return Buffer.from(utf8, 'utf8').equals(data) ? { text: utf8, encoding: 'utf8' } : { text: data.toString('latin1'), encoding: 'latin1' };
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash + 1);
}
