/**
 * A component's fingerprint: SHA-256 over everything that defines its rendered
 * form — the spec text, every file's path/mode/hash, and the overlay definitions
 * (type, fields, metadata; not where in which file they were written, and with
 * `source` as a project-relative path, since its content is already in the files).
 */
import { relative } from 'node:path';
import { sourcePath } from './source-path.js';
import type { DistroModel, OverlaySpec } from '../config/model.js';
import { hashRecord, sha256Hex } from '../util/hash.js';
import { toPosix } from '../util/paths.js';

export function overlayIdentity(model: DistroModel, overlay: OverlaySpec): Record<string, unknown> {
  const fields = { ...overlay.fields };
  if (typeof fields.source === 'string') {
    fields.source = toPosix(relative(model.root, sourcePath(model, overlay, fields.source)));
  }
  return {
    type: overlay.type,
    fields,
    description: overlay.description,
    category: overlay.category,
    upstreamStatus: overlay.upstreamStatus,
  };
}

export function componentFingerprint(
  model: DistroModel,
  overlays: readonly OverlaySpec[],
  specFile: string,
  specText: string,
  files: ReadonlyArray<{ path: string; mode: number; sha256: string }>,
): string {
  return hashRecord({
    spec: { path: specFile, sha256: sha256Hex(specText) },
    files: files.map((f) => ({ path: f.path, mode: f.mode, sha256: f.sha256 })),
    overlays: overlays.map((o) => overlayIdentity(model, o)),
  });
}
