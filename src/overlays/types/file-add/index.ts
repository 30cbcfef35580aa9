import { z } from 'zod';
import { archiveFields, archiveRootNeedsArchive, destinationPath, source } from '../fields.js';
import { archiveOf } from '../archive-target.js';
import { defineOverlayType, OverlayFailure } from '../type.js';

export default defineOverlayType({
  name: 'file-add',
  summary: 'Copies `source` to `file` in the component folder (or inside a source archive); the file must not exist yet.',
  schema: z.strictObject({ file: destinationPath, source, ...archiveFields }),
  refine: archiveRootNeedsArchive,
  apply: async (context, fields) => {
    const files = await context.files(archiveOf(fields));
    if (files.has(fields.file)) throw new OverlayFailure(`'${fields.file}' already exists in ${files.label}`, 'file', 'remove it first with file-remove, or pick another name');
    const { data, mode } = await context.readSource(fields.source);
    files.write(fields.file, data, mode & 0o111 ? 0o755 : 0o644);
  },
});
