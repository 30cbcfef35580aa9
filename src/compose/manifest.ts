/** The shape of manifest.json: what compose writes and verify, repro and boot read. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StrataError } from '../util/errors.js';
import type { Arch, MinimiseRules } from '../config/model.js';
import type { DiskInfo, FilesystemInfo, InstalledPackage, MinimiseReport, SignatureInfo, VerityInfo } from './context.js';

export const MANIFEST_FILE = 'manifest.json';

export interface ImageManifest {
  manifestVersion: 1;
  tool: string;
  image: string;
  arch: Arch;
  distro: { name: string; version: string; vendor: string };
  sourceDateEpoch: number;
  configFingerprint: string;
  layout: 'root' | 'usr';
  init: string;
  bootMarker: string;
  packages: InstalledPackage[];
  minimise: { rules: MinimiseRules; removed: MinimiseReport['removed'] };
  filesystem: FilesystemInfo;
  verity: VerityInfo | null;
  signature: SignatureInfo | null;
  disk: DiskInfo | null;
  cmdline: string | null;
  sizes: { installedPackages: number; filesystemImage: number; disk: number | null };
  /** Every other file in the image folder: name → SHA-256 and size. */
  artifacts: Record<string, { sha256: string; size: number }>;
}

export async function readManifest(imageDir: string): Promise<ImageManifest> {
  const path = join(imageDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new StrataError(`no image at ${imageDir} (${MANIFEST_FILE} is missing)`, { hint: 'compose it first: strata compose IMAGE --arch ARCH' });
  }
  try {
    const manifest = JSON.parse(text) as ImageManifest;
    if (manifest.manifestVersion !== 1) throw new Error(`manifestVersion ${String(manifest.manifestVersion)}`);
    return manifest;
  } catch (error) {
    throw new StrataError(`${path} is not a strata image manifest: ${(error as Error).message}`, { hint: 'compose the image again' });
  }
}
