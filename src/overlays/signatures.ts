/**
 * Keeping a component's SHA-256 pins true after overlays. The pins file
 * (`NAME.signatures.json`, `{"Signatures": {"file": "sha256"}}`, read by the build
 * stage) pins the component's inputs. When an overlay rewrites a pinned file (an
 * archive edited in place) the original is first checked against its pin, so a
 * tampered upstream file is never laundered by an edit, and the pin is moved to
 * the new bytes; a pinned file an overlay removes loses its pin.
 */
import { sha256Hex } from '../util/hash.js';
import { entryData, type FileEntry, type LooseFiles } from './files/tree.js';
import { OverlayFailure } from './types/type.js';

export function signaturesFileFor(specFile: string): string {
  return `${specFile.replace(/\.spec$/, '')}.signatures.json`;
}

async function digest(entry: FileEntry): Promise<string> {
  return sha256Hex(await entryData(entry));
}

/** Updates the pins for the files one overlay changed; `before` is the state it started from. */
export async function updatePins(files: LooseFiles, specFile: string, before: ReadonlyMap<string, FileEntry>, touched: readonly string[]): Promise<void> {
  const name = signaturesFileFor(specFile);
  const entry = files.entries.get(name);
  if (!entry || touched.includes(name)) return;
  let parsed: { Signatures?: Record<string, unknown> };
  try {
    parsed = JSON.parse((await entryData(entry)).toString('utf8')) as typeof parsed;
  } catch {
    return; // An unreadable pins file is the build stage's to report.
  }
  const pins = parsed.Signatures;
  if (pins === null || typeof pins !== 'object' || Array.isArray(pins)) return;
  let changed = false;
  for (const path of touched) {
    const pin = pins[path];
    if (typeof pin !== 'string') continue;
    const old = before.get(path);
    const now = files.entries.get(path);
    if (now && old && (await digest(old)) !== pin) {
      throw new OverlayFailure(`${path} does not match its pin in ${name} (before this overlay changed it)`, 'file', 'check the file; update the pin only if it is the upstream file you mean to build');
    }
    if (now) pins[path] = await digest(now);
    else delete pins[path];
    changed = true;
  }
  if (!changed) return;
  parsed.Signatures = Object.fromEntries(Object.entries(pins).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  files.write(name, Buffer.from(`${JSON.stringify(parsed, null, 2)}\n`), entry.mode);
}
