/** The `archive`/`archive-root` fields of a file overlay as the context wants them. */
export function archiveOf(fields: { archive?: string | undefined; 'archive-root'?: string | undefined }): { name: string; root?: string } | undefined {
  if (fields.archive === undefined) return undefined;
  return fields['archive-root'] === undefined ? { name: fields.archive } : { name: fields.archive, root: fields['archive-root'] };
}
