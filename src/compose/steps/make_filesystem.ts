/**
 * make_filesystem: the staging tree (or its /usr, for the usr layout) becomes
 * one read-only filesystem image. Both tools are run in their reproducible
 * modes: every timestamp is SOURCE_DATE_EPOCH, entries are sorted, and the
 * erofs UUID is derived from the tree itself, so equal trees give equal bytes.
 * Ownership and modes stay as the packages set them (rpm ran as root).
 */
import { lstat, readlink, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { StrataError } from '../../util/errors.js';
import { sha256File, sha256Hex, uuidFromHex } from '../../util/hash.js';
import { walkTree } from '../../util/paths.js';
import { run } from '../../util/process.js';
import { toolEnv, type ComposeStep } from '../context.js';
import { isDirectory } from '../fs.js';

/** dm-verity and both filesystems work in 4 KiB blocks; the image is padded to a whole block. */
export const BLOCK_SIZE = 4096;

/**
 * SHA-256 over a listing of the tree: path, type, owner, mode, and the content
 * hash or link target of each entry, in byte order of paths. Timestamps are
 * left out: the filesystem tools replace them with SOURCE_DATE_EPOCH.
 */
export async function treeDigest(root: string): Promise<string> {
  const lines: string[] = [];
  for (const entry of await walkTree(root)) {
    const st = await lstat(entry.absPath);
    const content = entry.type === 'file' ? await sha256File(entry.absPath) : entry.type === 'symlink' ? await readlink(entry.absPath) : '';
    lines.push(`${entry.path}\t${entry.type}\t${st.uid}:${st.gid}\t${entry.mode.toString(8)}\t${content}`);
  }
  return sha256Hex(lines.join('\n'));
}

export const makeFilesystem: ComposeStep = {
  name: 'make_filesystem',
  applies: () => true,
  async run(context) {
    const { image } = context;
    const source = image.layout === 'usr' ? join(context.stageRoot, 'usr') : context.stageRoot;
    if (image.layout === 'usr' && !(await isDirectory(source))) {
      throw new StrataError(`image ${image.name}: layout "usr" needs a /usr tree, but the installed packages put nothing there`, {
        location: image.definedAt,
        hint: 'use layout = "root", or install packages that populate /usr',
      });
    }
    const digest = await treeDigest(source);
    const file = `${image.layout}.${image.filesystem}`;
    const output = join(context.outDir, file);
    const epoch = String(context.model.distro.sourceDateEpoch);
    let uuid: string | null = null;
    let compression: string;
    if (image.filesystem === 'erofs') {
      uuid = uuidFromHex(sha256Hex(`strata-erofs-uuid\0${digest}`));
      compression = 'lz4hc';
      await run('mkfs.erofs', ['--quiet', `-z${compression}`, `-T${epoch}`, `-U${uuid}`, output, source], { env: toolEnv(context), signal: context.signal });
    } else {
      compression = 'zstd';
      // mksquashfs refuses SOURCE_DATE_EPOCH together with explicit times, and the variable alone only clamps
      // newer file times; -all-time sets every one, so the variable is withheld.
      await run('mksquashfs', [source, output, '-noappend', '-reproducible', '-no-progress', '-quiet', '-comp', compression, '-b', '131072', '-mkfs-time', epoch, '-all-time', epoch], {
        env: { ...toolEnv(context), SOURCE_DATE_EPOCH: undefined },
        signal: context.signal,
      });
    }
    const rawSize = (await lstat(output)).size;
    const size = Math.ceil(rawSize / BLOCK_SIZE) * BLOCK_SIZE;
    if (size !== rawSize) await truncate(output, size);
    context.log.info(`  ${image.filesystem} (${compression}): ${size} bytes`);
    return {
      ...context,
      filesystem: { type: image.filesystem, compression, file, uuid, blockSize: BLOCK_SIZE, size, sha256: await sha256File(output), treeDigest: digest },
    };
  },
};
