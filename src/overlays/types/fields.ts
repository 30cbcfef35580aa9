/**
 * Field schemas shared by the overlay types, named as in azldev's overlay tables
 * (plus strata's own: `count`, `archive-root`). One definition per field keeps
 * every type's validation and error wording the same.
 */
import { z } from 'zod';
import { isConfinedRelative } from '../files/glob.js';
import { globToRegExp, isGlob } from '../files/glob.js';
import { regexProblem } from '../regex.js';
import { PACKAGELESS_SECTIONS, SECTION_NAMES } from '../spec/model.js';
import { closest } from '../../util/suggest.js';

const oneLine = (what: string) =>
  z.string().min(1, `${what} must not be empty`).refine((v) => !/[\r\n]/.test(v), `${what} must be a single line`);

export const tag = oneLine('tag').refine(
  (v) => /^[A-Za-z][A-Za-z0-9]*(\([^)]*\))?$/.test(v),
  'tag must be a tag name such as BuildRequires, Source1 or Requires(post)',
);

export const value = oneLine('value');

export const pkg = oneLine('package').refine((v) => !/\s/.test(v), 'package must be one subpackage name');

export function normaliseSection(name: string): string {
  return name.startsWith('%') ? name : `%${name}`;
}

export const section = z
  .string()
  .min(1, 'section must not be empty')
  .transform(normaliseSection)
  .superRefine((name, ctx) => {
    if ((SECTION_NAMES as readonly string[]).includes(name)) return;
    const guess = closest(name, SECTION_NAMES);
    ctx.addIssue({ code: 'custom', message: `unknown section '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}` });
  });

export const lines = z.array(z.string().refine((v) => !/[\r\n]/.test(v), 'each entry of lines is one line')).min(1, 'lines must not be empty');

export const regex = z
  .string()
  .min(1, 'regex must not be empty')
  .superRefine((v, ctx) => {
    const problem = regexProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: `regex does not compile: ${problem}` });
  });

export const replacement = z.string();

export const count = z.number().int('count must be a whole number').positive('count must be at least 1');

/** A path or glob relative to the component folder (or archive root) that cannot leave it. */
export const relativePath = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .superRefine((v, ctx) => {
      if (!isConfinedRelative(v)) {
        ctx.addIssue({ code: 'custom', message: `${what} '${v}' escapes its folder (absolute or with '..')` });
        return;
      }
      try {
        globToRegExp(v);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    });

export const fileGlob = relativePath('file').refine(
  (v) => !/\.spec$/.test(v),
  'file overlays never touch the spec; use the spec-* overlay types for it',
);

/** Where a new file goes (file-add, patch-add): a path, not a glob. */
export const destinationPath = fileGlob.refine((v) => !isGlob(v), 'file is where the new file goes: a path, not a glob');

/** A bare file name (file-rename's `replacement`, `archive`). */
export const fileName = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .refine((v) => !v.includes('/') && v !== '.' && v !== '..', `${what} must be a file name, not a path`);

/** `source`: relative to the TOML file that defines the overlay; checked against the project root at render time. */
export const source = z.string().min(1, 'source must not be empty');

/** Fields that name a source archive to work inside (strata and azldev spelling). */
export const archiveFields = {
  archive: fileName('archive').optional(),
  'archive-root': relativePath('archive-root').optional(),
};

/** `package` needs `section` on types that can also target the whole spec. */
export function packageNeedsSection(fields: { package?: string | undefined; section?: string | undefined }) {
  return fields.package !== undefined && fields.section === undefined
    ? [{ field: 'package', message: "'package' needs a 'section' (a subpackage is always addressed through one of its sections)" }]
    : [];
}

/** Sections such as %prep belong to no subpackage. */
export function sectionTakesPackage(fields: { package?: string | undefined; section?: string | undefined }) {
  return fields.package !== undefined && fields.section !== undefined && PACKAGELESS_SECTIONS.has(fields.section)
    ? [{ field: 'package', message: `${fields.section} belongs to no subpackage; remove 'package'` }]
    : [];
}

export function archiveRootNeedsArchive(fields: { archive?: string | undefined; 'archive-root'?: string | undefined }) {
  return fields['archive-root'] !== undefined && fields.archive === undefined
    ? [{ field: 'archive-root', message: "'archive-root' only applies with 'archive'" }]
    : [];
}
