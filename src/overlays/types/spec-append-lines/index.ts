import { z } from 'zod';
import { contentEndLine, editSpec } from '../../spec/edit.js';
import { requireSections } from '../../spec/sections.js';
import { lines, packageNeedsSection, pkg, section, sectionTakesPackage } from '../fields.js';
import { defineOverlayType } from '../type.js';

export default defineOverlayType({
  name: 'spec-append-lines',
  summary: "Adds lines after a section's last content line, outside an %if that straddles its end; at the end of the spec without `section`.",
  schema: z.strictObject({ lines, section: section.optional(), package: pkg.optional() }),
  refine: (fields) => [...packageNeedsSection(fields), ...sectionTakesPackage(fields)],
  apply: async (context, fields) => {
    editSpec(context, (model) => {
      if (fields.section === undefined) return [{ kind: 'insert', at: model.lines.length, lines: fields.lines }];
      return requireSections(model, fields.section, fields.package).map((s) => ({
        kind: 'insert',
        at: contentEndLine(model, s),
        lines: fields.lines,
      }));
    });
  },
});
