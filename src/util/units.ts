/** Byte sizes as people write and read them: powers of 1024. */
import { StrataError } from './errors.js';

/** `2G`, `500M`, `1.5GiB`, `1024` (bytes); powers of 1024. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!match) {
    throw new StrataError(`'${text}' is not a size`, { kind: 'usage', hint: 'write a number of bytes or use a K, M, G or T suffix, e.g. 2G' });
  }
  const power = ['', 'k', 'm', 'g', 't'].indexOf(match[2]!.toLowerCase());
  return Math.floor(Number(match[1]) * 1024 ** power);
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
