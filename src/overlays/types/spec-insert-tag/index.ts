import { z } from 'zod';
import { editSpec } from '../../spec/edit.js';
import { insertTagEdits } from '../../spec/tags.js';
import { pkg, tag, value } from '../fields.js';
import { defineOverlayType } from '../type.js';

export default defineOverlayType({
  name: 'spec-insert-tag',
  summary: 'Inserts a tag after the last tag of its family (Source9999 after the last Source*), outside any %if around it.',
  schema: z.strictObject({ tag, value, package: pkg.optional() }),
  apply: async (context, fields) => {
    editSpec(context, (model) => insertTagEdits(model, fields.package, fields.tag, fields.value));
  },
});
