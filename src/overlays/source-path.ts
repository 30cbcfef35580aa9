/**
 * Where an overlay's `source` file is: relative to the TOML file that defines
 * the overlay (as in azldev). The config stage shows file names relative to the
 * current folder when it can, so the defining file is found among the files the
 * model was read from.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { DistroModel, OverlaySpec } from '../config/model.js';

export function overlayFile(model: DistroModel, overlay: OverlaySpec): string {
  const file = overlay.location.file;
  if (isAbsolute(file)) return file;
  for (const base of [process.cwd(), model.root]) {
    const candidate = resolve(base, file);
    if (model.files.includes(candidate)) return candidate;
  }
  return resolve(model.root, file);
}

export function sourcePath(model: DistroModel, overlay: OverlaySpec, source: string): string {
  return resolve(dirname(overlayFile(model, overlay)), source);
}
