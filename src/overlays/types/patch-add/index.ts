import { posix } from 'node:path';
import { z } from 'zod';
import { contentEndLine, editSpec } from '../../spec/edit.js';
import { sectionsNamed } from '../../spec/model.js';
import { applicationEdits, nextPatchNumber } from '../../spec/patches.js';
import { insertTagEdits } from '../../spec/tags.js';
import { destinationPath, source } from '../fields.js';
import { defineOverlayType, OverlayFailure } from '../type.js';

export default defineOverlayType({
  name: 'patch-add',
  summary: 'Copies a patch into the component and registers it (%patchlist entry, or PatchN tag applied the way the spec applies its others).',
  schema: z.strictObject({ source, file: destinationPath.optional() }),
  apply: async (context, fields) => {
    const name = fields.file ?? posix.basename(fields.source);
    const files = await context.files();
    if (files.has(name)) throw new OverlayFailure(`patch '${name}' already exists in the component folder`, fields.file ? 'file' : 'source', "set 'file' to another name, or remove the old patch with patch-remove first");
    const { data } = await context.readSource(fields.source);
    files.write(name, data, 0o644);
    editSpec(context, (model) => {
      const patchlist = sectionsNamed(model, '%patchlist', undefined);
      if (patchlist.length > 0) return patchlist.map((s) => ({ kind: 'insert', at: contentEndLine(model, s), lines: [name] }));
      const number = nextPatchNumber(model);
      return [...insertTagEdits(model, undefined, `Patch${number}`, name, ['source']), ...applicationEdits(model, number)];
    });
  },
});
