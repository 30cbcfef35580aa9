import { z } from 'zod';
import { parentOf, selectFiles } from '../../files/select.js';
import { archiveFields, archiveRootNeedsArchive, fileGlob, fileName } from '../fields.js';
import { archiveOf } from '../archive-target.js';
import { defineOverlayType, OverlayFailure } from '../type.js';

export default defineOverlayType({
  name: 'file-rename',
  summary: 'Renames the one file `file` matches to `replacement`, a bare file name in the same folder.',
  schema: z.strictObject({ file: fileGlob, replacement: fileName('replacement'), ...archiveFields }),
  refine: archiveRootNeedsArchive,
  apply: async (context, fields) => {
    const files = await context.files(archiveOf(fields));
    const matched = selectFiles(files, fields.file);
    if (matched.length > 1) throw new OverlayFailure(`file '${fields.file}' matched ${matched.length} files; file-rename renames exactly one`, 'file', undefined, matched.slice(0, 10));
    const from = matched[0]!;
    const to = `${parentOf(from)}${fields.replacement}`;
    if (to === from) throw new OverlayFailure(`'${from}' already has the name '${fields.replacement}'`, 'replacement');
    if (files.has(to)) throw new OverlayFailure(`cannot rename '${from}': '${to}' already exists in ${files.label}`, 'replacement');
    files.rename(from, to);
  },
});
