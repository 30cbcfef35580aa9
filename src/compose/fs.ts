/** Small file-system questions the composer asks in many places. */
import { lstat } from 'node:fs/promises';

/** True when something (file, folder or link, even dangling) exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

export async function isDirectory(path: string): Promise<boolean> {
  return lstat(path).then(
    (st) => st.isDirectory(),
    () => false,
  );
}
