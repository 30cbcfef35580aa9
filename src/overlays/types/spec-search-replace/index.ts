import { z } from 'zod';
import { editSpec, type SpecEdit } from '../../spec/edit.js';
import { describeSection } from '../../spec/model.js';
import { bodySpan, requireSections } from '../../spec/sections.js';
import { compileRegex, replaceLiteral } from '../../regex.js';
import { count, packageNeedsSection, pkg, regex, replacement, section, sectionTakesPackage } from '../fields.js';
import { defineOverlayType, OverlayFailure } from '../type.js';

export default defineOverlayType({
  name: 'spec-search-replace',
  summary: 'Replaces regex matches line by line in one section or the whole spec, literally; fails when nothing (or not `count` things) matched.',
  schema: z.strictObject({
    regex,
    replacement: replacement.default(''),
    section: section.optional(),
    package: pkg.optional(),
    count: count.optional(),
  }),
  refine: (fields) => [...packageNeedsSection(fields), ...sectionTakesPackage(fields)],
  apply: async (context, fields) => {
    editSpec(context, (model) => {
      const spans =
        fields.section === undefined
          ? [{ start: 0, end: model.lines.length }]
          : requireSections(model, fields.section, fields.package).map((s) => bodySpan(model, s));
      const re = compileRegex(fields.regex);
      const edits: SpecEdit[] = [];
      const hits: string[] = [];
      let total = 0;
      for (const span of spans) {
        for (let i = span.start; i < span.end; i++) {
          const result = replaceLiteral(model.lines[i]!, re, fields.replacement);
          if (result.count === 0) continue;
          total += result.count;
          hits.push(`spec line ${i + 1}: ${model.lines[i]!.trim()}`);
          if (result.text !== model.lines[i]) edits.push({ kind: 'replace', start: i, end: i + 1, lines: result.text.split('\n') });
        }
      }
      const where = fields.section === undefined ? 'the spec' : describeSection(fields.section, fields.package);
      if (total === 0) throw new OverlayFailure(`regex /${fields.regex}/ matched nothing in ${where}`, 'regex');
      if (fields.count !== undefined && total !== fields.count) {
        throw new OverlayFailure(`regex /${fields.regex}/ matched ${total} times in ${where}, expected ${fields.count}`, 'count', undefined, hits.slice(0, 10));
      }
      return edits;
    });
  },
});
