import { z } from 'zod';
import { editSpec } from '../../spec/edit.js';
import { existingValues, packageLabel, removeTagEdits, tagsIn } from '../../spec/tags.js';
import { pkg, tag, value } from '../fields.js';
import { defineOverlayType, OverlayFailure } from '../type.js';
import { didYouMean } from '../../../util/suggest.js';

export default defineOverlayType({
  name: 'spec-remove-tag',
  summary: "Removes every instance of a tag from the package's preamble (only those whose value equals `value`, when given).",
  schema: z.strictObject({ tag, value: value.optional(), package: pkg.optional() }),
  apply: async (context, fields) => {
    editSpec(context, (model) => {
      const edits = removeTagEdits(model, fields.package, fields.tag, fields.value);
      if (edits.length > 0) return edits;
      const values = existingValues(model, fields.package, fields.tag);
      if (values.length > 0) {
        throw new OverlayFailure(
          `no '${fields.tag}' tag of ${packageLabel(fields.package)} has the value '${fields.value}'`,
          'value',
          undefined,
          values.map((v) => `present: ${v}`),
        );
      }
      throw new OverlayFailure(
        `tag '${fields.tag}' is not in the preamble of ${packageLabel(fields.package)}${didYouMean(fields.tag, tagsIn(model, fields.package))}`,
        'tag',
      );
    });
  },
});
