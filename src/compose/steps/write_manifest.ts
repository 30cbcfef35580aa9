/**
 * write_manifest: the audit record of the image, written last because it
 * lists the SHA-256 of every other artifact in the folder. `strata verify`
 * checks an image against it.
 */
import { lstat, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../../util/hash.js';
import { STRATA_VERSION } from '../../version.js';
import type { ComposeContext, ComposeStep } from '../context.js';
import type { ImageManifest } from '../manifest.js';
import { MANIFEST_FILE } from '../manifest.js';

export async function artifactHashes(dir: string): Promise<ImageManifest['artifacts']> {
  const artifacts: ImageManifest['artifacts'] = {};
  for (const name of (await readdir(dir)).sort()) {
    if (name === MANIFEST_FILE) continue;
    artifacts[name] = { sha256: await sha256File(join(dir, name)), size: (await lstat(join(dir, name))).size };
  }
  return artifacts;
}

export function manifestOf(context: ComposeContext, artifacts: ImageManifest['artifacts']): ImageManifest {
  const { model, image } = context;
  const installedTotal = context.installed.reduce((sum, p) => sum + p.installedSize, 0);
  return {
    manifestVersion: 1,
    tool: `strata ${STRATA_VERSION}`,
    image: image.name,
    arch: context.arch,
    distro: { name: model.distro.name, version: model.distro.version, vendor: model.distro.vendor },
    sourceDateEpoch: model.distro.sourceDateEpoch,
    configFingerprint: model.fingerprint,
    layout: image.layout,
    init: image.init,
    bootMarker: image.bootMarker,
    packages: context.installed,
    minimise: { rules: image.minimise, removed: context.minimise?.removed ?? {} },
    filesystem: context.filesystem!,
    verity: context.verity ?? null,
    signature: context.signature ?? null,
    disk: context.disk ?? null,
    cmdline: context.cmdline ?? null,
    sizes: { installedPackages: installedTotal, filesystemImage: context.filesystem!.size, disk: context.disk?.size ?? null },
    artifacts,
  };
}

export const writeManifest: ComposeStep = {
  name: 'write_manifest',
  applies: () => true,
  async run(context) {
    const manifest = manifestOf(context, await artifactHashes(context.outDir));
    await writeFile(join(context.outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    return context;
  },
};
