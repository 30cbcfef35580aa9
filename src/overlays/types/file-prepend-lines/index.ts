import { z } from 'zod';
import { decodeText, selectFiles } from '../../files/select.js';
import { archiveFields, archiveRootNeedsArchive, fileGlob, lines } from '../fields.js';
import { defineOverlayType } from '../type.js';
import { archiveOf } from '../archive-target.js';

export default defineOverlayType({
  name: 'file-prepend-lines',
  summary: 'Inserts lines at the top of every file the glob matches (in the component folder or inside a source archive).',
  schema: z.strictObject({ file: fileGlob, lines, ...archiveFields }),
  refine: archiveRootNeedsArchive,
  apply: async (context, fields) => {
    const files = await context.files(archiveOf(fields));
    for (const path of selectFiles(files, fields.file)) {
      const { text, encoding } = decodeText(await files.read(path));
      files.write(path, Buffer.from(`${fields.lines.join('\n')}\n${text}`, encoding), files.mode(path));
    }
  },
});
