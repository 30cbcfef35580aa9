import { z } from 'zod';
import { selectFiles } from '../../files/select.js';
import { archiveFields, archiveRootNeedsArchive, fileGlob } from '../fields.js';
import { archiveOf } from '../archive-target.js';
import { defineOverlayType } from '../type.js';

export default defineOverlayType({
  name: 'file-remove',
  summary: 'Removes every file the glob matches (in the component folder or inside a source archive); fails when none does.',
  schema: z.strictObject({ file: fileGlob, ...archiveFields }),
  refine: archiveRootNeedsArchive,
  apply: async (context, fields) => {
    const files = await context.files(archiveOf(fields));
    for (const path of selectFiles(files, fields.file)) files.remove(path);
  },
});
