import { z } from 'zod';
import { editSpec, sectionDeletion } from '../../spec/edit.js';
import { namesMainPackage, sectionInPackage } from '../../spec/model.js';
import { requirePreambles } from '../../spec/tags.js';
import { pkg } from '../fields.js';
import { defineOverlayType, OverlayFailure } from '../type.js';

export default defineOverlayType({
  name: 'spec-remove-subpackage',
  summary: 'Removes every section of a subpackage (%package, %description, %files, scriptlets, triggers).',
  schema: z.strictObject({ package: pkg }),
  apply: async (context, fields) => {
    editSpec(context, (model) => {
      if (namesMainPackage(model, fields.package)) {
        throw new OverlayFailure(`'${fields.package}' is the main package; spec-remove-subpackage removes subpackages`, 'package');
      }
      requirePreambles(model, fields.package);
      return sectionDeletion(model, model.sections.filter((s) => s.pkg !== null && sectionInPackage(model, s, fields.package)));
    });
  },
});
