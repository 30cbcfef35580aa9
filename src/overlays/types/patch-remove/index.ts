import { posix } from 'node:path';
import { z } from 'zod';
import { globToRegExp } from '../../files/glob.js';
import { editSpec, lineRange, type SpecEdit } from '../../spec/edit.js';
import { expandSimple, sectionsNamed } from '../../spec/model.js';
import { patchTags, unapplicationEdits } from '../../spec/patches.js';
import { fileGlob } from '../fields.js';
import { defineOverlayType, OverlayFailure } from '../type.js';

export default defineOverlayType({
  name: 'patch-remove',
  summary: 'Removes the patches a glob matches: their files, PatchN tags or %patchlist entries, and the %patch lines applying them.',
  schema: z.strictObject({ file: fileGlob }),
  apply: async (context, fields) => {
    const re = globToRegExp(fields.file);
    const matches = (value: string): boolean => {
      const v = value.trim();
      return re.test(v) || re.test(posix.basename(v));
    };
    editSpec(context, (model) => {
      const macros = new Map(model.mainName ? [['name', model.mainName]] : []);
      const tags = patchTags(model).filter((t) => matches(t.value) || matches(expandSimple(t.value, macros)));
      const edits: SpecEdit[] = tags.map((t) => ({ kind: 'delete', ...lineRange(model, t.line) }));
      for (const section of sectionsNamed(model, '%patchlist', undefined)) {
        for (let i = section.bodyStart; i < section.bodyEnd; i++) {
          const text = model.logical[i]!.text;
          if (text.trim() !== '' && !text.trim().startsWith('#') && matches(text)) edits.push({ kind: 'delete', ...lineRange(model, i) });
        }
      }
      if (edits.length === 0) {
        const known = patchTags(model).map((t) => `${t.tag}: ${t.value}`);
        throw new OverlayFailure(`no patch in the spec matches '${fields.file}'`, 'file', undefined, known.length > 0 ? known.map((k) => `declared: ${k}`) : ['the spec declares no PatchN tags']);
      }
      return [...edits, ...unapplicationEdits(model, new Set(tags.map((t) => t.number)))];
    });
    const files = await context.files();
    for (const path of files.paths()) if (re.test(path)) files.remove(path);
  },
});
