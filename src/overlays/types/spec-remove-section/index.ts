import { z } from 'zod';
import { editSpec, sectionDeletion } from '../../spec/edit.js';
import { requireSections } from '../../spec/sections.js';
import { pkg, section, sectionTakesPackage } from '../fields.js';
import { defineOverlayType } from '../type.js';

export default defineOverlayType({
  name: 'spec-remove-section',
  summary: 'Removes a section (header and body) of the main package or a subpackage, keeping %if/%endif balanced.',
  schema: z.strictObject({ section, package: pkg.optional() }),
  refine: (fields) => [
    ...sectionTakesPackage(fields),
    ...(fields.section === '%package' && fields.package === undefined
      ? [{ field: 'section', message: 'the main preamble cannot be removed; name a subpackage, or use spec-remove-subpackage' }]
      : []),
  ],
  apply: async (context, fields) => {
    editSpec(context, (model) => sectionDeletion(model, requireSections(model, fields.section, fields.package)));
  },
});
