/**
 * make_verity: the dm-verity hash tree over the filesystem image. Salt and
 * superblock UUID are derived from the filesystem's own SHA-256, so the root
 * hash is a function of the image content alone (a random salt, as most tools
 * use, would make every build's root hash different).
 */
import { chmod, lstat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StrataError } from '../../util/errors.js';
import { sha256Hex, uuidFromHex } from '../../util/hash.js';
import { run } from '../../util/process.js';
import { toolEnv, type ComposeStep } from '../context.js';
import { BLOCK_SIZE } from './make_filesystem.js';

export function veritySalt(filesystemSha256: string): string {
  return sha256Hex(`strata-verity-salt\0${filesystemSha256}`);
}

export function verityUuid(filesystemSha256: string): string {
  return uuidFromHex(sha256Hex(`strata-verity-uuid\0${filesystemSha256}`));
}

export const makeVerity: ComposeStep = {
  name: 'make_verity',
  applies: (context) => context.image.verity,
  async run(context) {
    const fs = context.filesystem!;
    const file = `${context.image.layout}.verity`;
    const rootHashFile = `${context.image.layout}.roothash`;
    const salt = veritySalt(fs.sha256);
    const uuid = verityUuid(fs.sha256);
    const result = await run(
      'veritysetup',
      ['format', join(context.outDir, fs.file), join(context.outDir, file), '--hash=sha256', `--data-block-size=${BLOCK_SIZE}`, `--hash-block-size=${BLOCK_SIZE}`, `--salt=${salt}`, `--uuid=${uuid}`],
      { env: toolEnv(context), signal: context.signal },
    );
    const rootHash = /Root hash:\s*([0-9a-f]{64})/.exec(result.stdout)?.[1];
    if (!rootHash) throw new StrataError('veritysetup format printed no root hash', { kind: 'build', details: result.stdout.split('\n') });
    // veritysetup creates the tree 0600; artifacts are all plainly readable.
    await chmod(join(context.outDir, file), 0o644);
    await writeFile(join(context.outDir, rootHashFile), `${rootHash}\n`);
    context.log.info(`  verity root hash ${rootHash}`);
    return {
      ...context,
      verity: {
        file,
        rootHashFile,
        rootHash,
        salt,
        uuid,
        hashAlgorithm: 'sha256',
        dataBlockSize: BLOCK_SIZE,
        hashBlockSize: BLOCK_SIZE,
        dataBlocks: fs.size / BLOCK_SIZE,
        size: (await lstat(join(context.outDir, file))).size,
      },
    };
  },
};
