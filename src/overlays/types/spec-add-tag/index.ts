import { z } from 'zod';
import { editSpec } from '../../spec/edit.js';
import { addTagEdits } from '../../spec/tags.js';
import { pkg, tag, value } from '../fields.js';
import { defineOverlayType } from '../type.js';

export default defineOverlayType({
  name: 'spec-add-tag',
  summary: "Appends a tag line to the package's preamble, even if the tag already occurs (BuildRequires, Provides…).",
  schema: z.strictObject({ tag, value, package: pkg.optional() }),
  apply: async (context, fields) => {
    editSpec(context, (model) => addTagEdits(model, fields.package, fields.tag, fields.value));
  },
});
