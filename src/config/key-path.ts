/** Paths into a TOML document, as map keys and as messages show them. */

/** Table keys and array indices, from the document root. */
export type KeyPath = ReadonlyArray<string | number>;

export function pathKey(path: KeyPath): string {
  return JSON.stringify(path);
}

function quoteKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}

/** `components.x.overlays[0].type` */
export function formatPath(path: KeyPath): string {
  return path.map((segment, n) => (typeof segment === 'number' ? `[${segment}]` : `${n > 0 ? '.' : ''}${quoteKey(segment)}`)).join('');
}

/** The table a key lives in, as its header would name it: `[images.minimal.minimise]`. */
export function formatTable(path: KeyPath): string {
  const names = path.filter((segment): segment is string => typeof segment === 'string');
  return names.length === 0 ? 'the top level' : `[${names.map(quoteKey).join('.')}]`;
}
