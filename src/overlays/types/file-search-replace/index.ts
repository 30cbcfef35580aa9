import { z } from 'zod';
import { decodeText, selectFiles } from '../../files/select.js';
import { compileRegex, replaceLiteral } from '../../regex.js';
import { archiveFields, archiveRootNeedsArchive, count, fileGlob, regex, replacement } from '../fields.js';
import { archiveOf } from '../archive-target.js';
import { defineOverlayType, OverlayFailure } from '../type.js';

export default defineOverlayType({
  name: 'file-search-replace',
  summary: 'Replaces regex matches (over the whole text, literally) in every file the glob matches; fails when nothing (or not `count` things) matched.',
  schema: z.strictObject({ file: fileGlob, regex, replacement: replacement.default(''), count: count.optional(), ...archiveFields }),
  refine: archiveRootNeedsArchive,
  apply: async (context, fields) => {
    const files = await context.files(archiveOf(fields));
    const re = compileRegex(fields.regex);
    const paths = selectFiles(files, fields.file);
    let total = 0;
    const perFile: string[] = [];
    for (const path of paths) {
      const { text, encoding } = decodeText(await files.read(path));
      const result = replaceLiteral(text, re, fields.replacement);
      if (result.count === 0) continue;
      total += result.count;
      perFile.push(`${path}: ${result.count} match${result.count === 1 ? '' : 'es'}`);
      if (result.text !== text) files.write(path, Buffer.from(result.text, encoding), files.mode(path));
    }
    if (total === 0) {
      throw new OverlayFailure(`regex /${fields.regex}/ matched nothing in ${paths.length === 1 ? paths[0] : `the ${paths.length} files '${fields.file}' selects`} (in ${files.label})`, 'regex');
    }
    if (fields.count !== undefined && total !== fields.count) {
      throw new OverlayFailure(`regex /${fields.regex}/ matched ${total} times, expected ${fields.count}`, 'count', undefined, perFile);
    }
  },
});
