/**
 * Validating overlay tables against their type's schema. Every problem in every
 * component is collected, each pointing at the key it is about.
 */
import type { z } from 'zod';
import type { Component, DistroModel, OverlaySpec } from '../config/model.js';
import { StrataError, StrataErrors } from '../util/errors.js';
import { didYouMean } from '../util/suggest.js';
import { OVERLAY_TYPES, fieldsOf, overlayType } from './types/index.js';
import type { OverlayType } from './types/type.js';

/**
 * Keys of an overlay table that are metadata, not fields of its type. azldev's
 * `metadata` table (commits, bug links, upstreamability…) is accepted as is, so
 * its overlay definitions load unchanged; it counts in the fingerprint.
 */
const METADATA_KEYS = new Set(['type', 'description', 'category', 'upstream-status', 'metadata']);

const ALL_FIELDS = new Set(OVERLAY_TYPES.flatMap(fieldsOf));

export function overlayLabel(overlay: OverlaySpec): string {
  return `overlay ${overlay.index} (${overlay.type}${overlay.description ? ` "${overlay.description}"` : ''})`;
}

function fieldsOfTable(overlay: OverlaySpec): Record<string, unknown> {
  return Object.fromEntries(Object.entries(overlay.fields).filter(([key]) => !METADATA_KEYS.has(key)));
}

function problem(component: Component, overlay: OverlaySpec, message: string, key?: string, hint?: string): StrataError {
  return new StrataError(`${overlayLabel(overlay)}: ${message}`, {
    location: (key !== undefined ? overlay.fieldLocations[key] : undefined) ?? overlay.location,
    component: component.name,
    hint,
  });
}

function describeExpected(expected: string): string {
  return expected === 'array' ? 'a list' : expected === 'number' ? 'a number' : `a ${expected}`;
}

function issueToError(component: Component, overlay: OverlaySpec, type: OverlayType, issue: z.core.$ZodIssue, fields: Record<string, unknown>): StrataError[] {
  const own = fieldsOf(type);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) =>
      ALL_FIELDS.has(key)
        ? problem(component, overlay, `field '${key}' does not apply to ${type.name}`, key, `${type.name} takes: ${own.join(', ')}`)
        : problem(component, overlay, `unknown field '${key}'${didYouMean(key, own)}`, key, `${type.name} takes: ${own.join(', ')}`),
    );
  }
  const key = issue.path[0] === undefined ? undefined : String(issue.path[0]);
  const where = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
  if (key !== undefined && !(key in fields)) {
    return [problem(component, overlay, `${type.name} needs the field '${key}'`, undefined, `${type.name} takes: ${own.join(', ')}`)];
  }
  if (issue.code === 'invalid_type') {
    return [problem(component, overlay, `field '${where}' must be ${describeExpected(issue.expected)}`, key)];
  }
  return [problem(component, overlay, issue.message, key)];
}

/** The overlay's fields parsed by its type's schema, or every problem with them. */
export function parseOverlay(component: Component, overlay: OverlaySpec): { type: OverlayType; fields: Record<string, unknown> } | StrataError[] {
  const type = overlayType(overlay.type);
  if (!type) {
    return [
      new StrataError(`overlay ${overlay.index}: unknown overlay type '${overlay.type}'${didYouMean(overlay.type, OVERLAY_TYPES.map((t) => t.name))}`, {
        location: overlay.fieldLocations.type ?? overlay.location,
        component: component.name,
        hint: `overlay types: ${OVERLAY_TYPES.map((t) => t.name).join(', ')}`,
      }),
    ];
  }
  const metadata = overlay.fields.metadata;
  if (metadata !== undefined && (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))) {
    return [problem(component, overlay, "'metadata' must be a table (azldev's overlay metadata)", 'metadata')];
  }
  const raw = fieldsOfTable(overlay);
  const parsed = type.schema.safeParse(raw);
  if (!parsed.success) return parsed.error.issues.flatMap((issue) => issueToError(component, overlay, type, issue, raw));
  const fields = parsed.data as Record<string, unknown>;
  const refined = type.refine?.(fields as never) ?? [];
  if (refined.length > 0) return refined.map((r) => problem(component, overlay, r.message, r.field));
  return { type, fields };
}

export function checkComponentOverlays(component: Component): StrataError[] {
  return component.overlays.flatMap((overlay) => {
    const result = parseOverlay(component, overlay);
    return Array.isArray(result) ? result : [];
  });
}

/** Validates every overlay's type and fields (throws StrataErrors with file:line:col). */
export function checkOverlays(model: DistroModel): void {
  const errors = Object.keys(model.components)
    .sort()
    .flatMap((name) => checkComponentOverlays(model.components[name]!));
  if (errors.length > 0) throw new StrataErrors(errors);
}
