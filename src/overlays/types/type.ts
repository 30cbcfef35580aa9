/**
 * The shape every overlay type has. The engine iterates the registry and knows
 * no type by name; a type knows nothing about where its overlay was written.
 */
import type { z } from 'zod';
import type { FileSet } from '../files/tree.js';

/** What an overlay may read and change while its component renders (all in memory). */
export interface OverlayContext {
  readonly component: string;
  /** File name of the spec inside the component folder. */
  readonly specFile: string;
  /** The current spec text; spec-* types replace it. */
  spec: string;
  /** The component folder's files, or the files inside one of its source archives. */
  files(archive?: { name: string; root?: string }): Promise<FileSet>;
  /** Reads an overlay's `source` file (relative to the TOML file that defines the overlay). */
  readSource(source: string): Promise<{ data: Buffer; mode: number }>;
}

export interface OverlayType<S extends z.ZodObject = z.ZodObject> {
  name: string;
  /** One line for docs and `--help`. */
  summary: string;
  /** A strict object of the type's own fields (metadata excluded). */
  schema: S;
  /** Extra checks across fields; each problem names the field it is about. */
  refine?: (fields: z.infer<S>) => Array<{ field: string; message: string }>;
  apply(context: OverlayContext, fields: z.infer<S>): Promise<void>;
}

export function defineOverlayType<S extends z.ZodObject>(type: OverlayType<S>): OverlayType {
  return type as unknown as OverlayType;
}

/**
 * An overlay that did not apply. `field` names the key the user should look at
 * (its file:line is what the error points to).
 */
export class OverlayFailure extends Error {
  constructor(
    message: string,
    readonly field?: string,
    readonly hint?: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}
