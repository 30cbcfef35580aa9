/**
 * Every overlay type strata knows. Adding a type is a new folder plus one line
 * here; the engine and validation iterate this list, and a test holds
 * docs/overlays.md to it.
 */
import specAddTag from './spec-add-tag/index.js';
import specInsertTag from './spec-insert-tag/index.js';
import specSetTag from './spec-set-tag/index.js';
import specUpdateTag from './spec-update-tag/index.js';
import specRemoveTag from './spec-remove-tag/index.js';
import specPrependLines from './spec-prepend-lines/index.js';
import specAppendLines from './spec-append-lines/index.js';
import specSearchReplace from './spec-search-replace/index.js';
import specRemoveSection from './spec-remove-section/index.js';
import specRemoveSubpackage from './spec-remove-subpackage/index.js';
import patchAdd from './patch-add/index.js';
import patchRemove from './patch-remove/index.js';
import filePrependLines from './file-prepend-lines/index.js';
import fileSearchReplace from './file-search-replace/index.js';
import fileAdd from './file-add/index.js';
import fileRemove from './file-remove/index.js';
import fileRename from './file-rename/index.js';
import { z } from 'zod';
import type { OverlayType } from './type.js';

export const OVERLAY_TYPES: readonly OverlayType[] = [
  specAddTag, specInsertTag, specSetTag, specUpdateTag, specRemoveTag, specPrependLines, specAppendLines,
  specSearchReplace, specRemoveSection, specRemoveSubpackage, patchAdd, patchRemove, filePrependLines,
  fileSearchReplace, fileAdd, fileRemove, fileRename,
];

const byName = new Map(OVERLAY_TYPES.map((type) => [type.name, type]));

export function overlayType(name: string): OverlayType | undefined {
  return byName.get(name);
}

/** The fields a type takes, in the order its schema lists them. */
export function fieldsOf(type: OverlayType): string[] {
  return Object.keys(type.schema.shape);
}

/** JSON Schema of each type's own fields (input side), for `strata schema` and editors. */
export function overlayTypeSchemas(): Record<string, unknown> {
  return Object.fromEntries(
    OVERLAY_TYPES.map((type) => [type.name, { description: type.summary, ...(z.toJSONSchema(type.schema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>) }]),
  );
}
