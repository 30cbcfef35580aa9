import { z } from 'zod';
import { editSpec } from '../../spec/edit.js';
import { addTagEdits, updateTagEdits } from '../../spec/tags.js';
import { pkg, tag, value } from '../fields.js';
import { defineOverlayType } from '../type.js';

export default defineOverlayType({
  name: 'spec-set-tag',
  summary: 'Sets a tag: updates every instance in the package where present, else adds it.',
  schema: z.strictObject({ tag, value, package: pkg.optional() }),
  apply: async (context, fields) => {
    editSpec(context, (model) => {
      const updates = updateTagEdits(model, fields.package, fields.tag, fields.value);
      return updates.length > 0 ? updates : addTagEdits(model, fields.package, fields.tag, fields.value);
    });
  },
});
