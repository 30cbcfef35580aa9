import { z } from 'zod';
import { bodyStartLine, editSpec } from '../../spec/edit.js';
import { requireSections } from '../../spec/sections.js';
import { lines, packageNeedsSection, pkg, section, sectionTakesPackage } from '../fields.js';
import { defineOverlayType } from '../type.js';

export default defineOverlayType({
  name: 'spec-prepend-lines',
  summary: 'Inserts lines right after a section header (in that package), or at the top of the spec without `section`.',
  schema: z.strictObject({ lines, section: section.optional(), package: pkg.optional() }),
  refine: (fields) => [...packageNeedsSection(fields), ...sectionTakesPackage(fields)],
  apply: async (context, fields) => {
    editSpec(context, (model) => {
      if (fields.section === undefined) return [{ kind: 'insert', at: 0, lines: fields.lines }];
      return requireSections(model, fields.section, fields.package).map((s) => ({
        kind: 'insert',
        at: bodyStartLine(model, s),
        lines: fields.lines,
      }));
    });
  },
});
