import { z } from 'zod';
import { editSpec } from '../../spec/edit.js';
import { packageLabel, tagsIn, updateTagEdits } from '../../spec/tags.js';
import { pkg, tag, value } from '../fields.js';
import { defineOverlayType, OverlayFailure } from '../type.js';
import { didYouMean } from '../../../util/suggest.js';

export default defineOverlayType({
  name: 'spec-update-tag',
  summary: 'Changes the value of a tag that must already exist (every instance in the package).',
  schema: z.strictObject({ tag, value, package: pkg.optional() }),
  apply: async (context, fields) => {
    editSpec(context, (model) => {
      const edits = updateTagEdits(model, fields.package, fields.tag, fields.value);
      if (edits.length > 0) return edits;
      const present = tagsIn(model, fields.package);
      throw new OverlayFailure(
        `tag '${fields.tag}' is not in the preamble of ${packageLabel(fields.package)}${didYouMean(fields.tag, present)}`,
        'tag',
        'spec-set-tag adds the tag when it is missing',
      );
    });
  },
});
