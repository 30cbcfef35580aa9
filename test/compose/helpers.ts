/** Shared by the composer's integration tests: extracting images, flipping bytes. */
import { mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/util/process.js';
import { createLogger } from '../../src/util/log.js';

export const log = createLogger(process.env.STRATA_TEST_VERBOSE ? 'verbose' : 'quiet');

/** The tree inside an erofs or squashfs image, extracted with the tools' own readers. */
export async function extractFilesystem(image: string, type: 'erofs' | 'squashfs'): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'strata-extract-')), 'tree');
  if (type === 'erofs') await run('fsck.erofs', [`--extract=${dir}`, image]);
  else await run('unsquashfs', ['-q', '-d', dir, image]);
  return dir;
}

/** XORs one byte of `path` at `offset` (applying it twice restores the file). */
export async function flipByte(path: string, offset: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await handle.read(b, 0, 1, offset);
    b[0] = b[0]! ^ 0x40;
    await handle.write(b, 0, 1, offset);
  } finally {
    await handle.close();
  }
}
