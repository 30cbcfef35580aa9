/**
 * What the overlay stage produces: a component as it will be built, after every
 * overlay applied. Rendering is pure (no writes) until `writeRendered`.
 */
import type { SourceLocation } from '../util/errors.js';

export interface RenderedFile {
  /** Relative to the component folder, '/'-separated. */
  path: string;
  sha256: string;
  mode: number;
  /** Unchanged files point at their original; files an overlay made or changed carry their bytes. */
  absPath?: string;
  data?: Buffer;
  /** Indexes of the overlays that made or changed this file (absent: the component's own file, untouched). */
  modifiedBy?: number[];
}

/** Which overlay changed which lines (for `strata diff` and `strata explain`). */
export interface OverlayEffect {
  index: number;
  type: string;
  description: string | null;
  location: SourceLocation;
  /** Files it touched ('<spec>' for the spec file itself). */
  touched: string[];
}

export interface RenderedComponent {
  name: string;
  /** File name of the spec inside the component folder. */
  specFile: string;
  baseSpecText: string;
  specText: string;
  /** Every non-spec file after overlays, sorted by path. */
  files: RenderedFile[];
  effects: OverlayEffect[];
  /** SHA-256 over the rendered spec, every file's path/mode/hash, and the overlay definitions. */
  fingerprint: string;
}
