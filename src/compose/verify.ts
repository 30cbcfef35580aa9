/**
 * strata verify: checks a composed image folder against its manifest and its
 * own hash tree. Every artifact's SHA-256 is recomputed; the verity tree is
 * recomputed by veritysetup, both over the standalone filesystem image and over
 * the partitions inside the disk image, so a flipped byte is reported with the
 * artifact, the partition and the 4 KiB block it lies in.
 */
import { createReadStream } from 'node:fs';
import { lstat, mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Arch, DistroModel } from '../config/model.js';
import type { Logger } from '../util/log.js';
import { sha256File } from '../util/hash.js';
import { run } from '../util/process.js';
import { readGpt } from './gpt.js';
import { findImage, imageDir } from './image.js';
import { MANIFEST_FILE, readManifest, type ImageManifest } from './manifest.js';
import { SBOM_FILE } from './steps/write_sbom.js';
import { validateSpdx } from './spdx.js';
import { imageProvenanceChecks } from '../audit/compose-provenance.js';

export interface VerifyCheck {
  check: string;
  ok: boolean;
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  image: string;
  arch: Arch;
  dir: string;
  rootHash: string | null;
  checks: VerifyCheck[];
}

export interface VerityOutcome {
  ok: boolean;
  /** Byte offset in the data device of the first block that fails, when the data is what is corrupt. */
  position: number | null;
  message: string;
}

/** Recomputes the hash tree over `data` and compares it with `hash` and the root hash (userspace; no device-mapper needed). */
export async function verityVerify(data: string, hash: string, rootHash: string, signal?: AbortSignal): Promise<VerityOutcome> {
  const result = await run('veritysetup', ['verify', data, hash, rootHash], { allowFailure: true, signal });
  if (result.exitCode === 0) return { ok: true, position: null, message: 'hash tree matches' };
  const position = /Verification failed at position (\d+)/.exec(result.all);
  return {
    ok: false,
    position: position ? Number(position[1]) : null,
    message: result.all.split('\n').filter((l) => l.trim() !== '').join('; ') || `veritysetup exited with ${result.exitCode}`,
  };
}

async function sha256Range(path: string, start: number, length: number): Promise<string> {
  const hash = createHash('sha256');
  if (length > 0) for await (const chunk of createReadStream(path, { start, end: start + length - 1 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function extractRange(path: string, start: number, length: number, target: string): Promise<void> {
  const input = await open(path, 'r');
  const output = await open(target, 'w');
  try {
    const buffer = Buffer.alloc(4 * 1024 * 1024);
    for (let done = 0; done < length; ) {
      const { bytesRead } = await input.read(buffer, 0, Math.min(buffer.length, length - done), start + done);
      if (bytesRead === 0) break;
      await output.write(buffer, 0, bytesRead);
      done += bytesRead;
    }
  } finally {
    await input.close();
    await output.close();
  }
}

/** The first 4 KiB block where two byte ranges differ, or null. */
async function firstDifferentBlock(a: string, aStart: number, b: string, length: number): Promise<number | null> {
  const fa = await open(a, 'r');
  const fb = await open(b, 'r');
  try {
    const block = 4096;
    const x = Buffer.alloc(block);
    const y = Buffer.alloc(block);
    for (let offset = 0; offset < length; offset += block) {
      const n = Math.min(block, length - offset);
      await fa.read(x, 0, n, aStart + offset);
      await fb.read(y, 0, n, offset);
      if (!x.subarray(0, n).equals(y.subarray(0, n))) return offset / block;
    }
    return null;
  } finally {
    await fa.close();
    await fb.close();
  }
}

function describeVerity(what: string, outcome: VerityOutcome, blockSize: number): string {
  if (outcome.ok) return `${what}: ${outcome.message}`;
  if (outcome.position === null) return `${what}: ${outcome.message}`;
  const block = Math.floor(outcome.position / blockSize);
  return `${what}: data block ${block} (bytes ${block * blockSize}..${(block + 1) * blockSize - 1}) does not match the hash tree`;
}

async function checkArtifacts(dir: string, manifest: ImageManifest, checks: VerifyCheck[]): Promise<void> {
  const present = (await readdir(dir)).filter((n) => n !== MANIFEST_FILE).sort();
  for (const name of present) {
    const expected = manifest.artifacts[name];
    if (!expected) {
      checks.push({ check: `artifact ${name}`, ok: false, detail: `${name} is not listed in the manifest (added after compose)` });
      continue;
    }
    const size = (await lstat(join(dir, name))).size;
    const sha256 = await sha256File(join(dir, name));
    const ok = sha256 === expected.sha256 && size === expected.size;
    checks.push({
      check: `artifact ${name}`,
      ok,
      detail: ok ? `sha256 ${sha256}` : `sha256 ${sha256} (${size} bytes), manifest says ${expected.sha256} (${expected.size} bytes)`,
    });
  }
  for (const name of Object.keys(manifest.artifacts).sort()) {
    if (!present.includes(name)) checks.push({ check: `artifact ${name}`, ok: false, detail: `${name} is missing` });
  }
}

async function checkDisk(dir: string, manifest: ImageManifest, checks: VerifyCheck[], scratch: string, signal?: AbortSignal): Promise<void> {
  const disk = manifest.disk!;
  const path = join(dir, disk.file);
  let table: Awaited<ReturnType<typeof readGpt>>;
  try {
    table = await readGpt(path);
  } catch (error) {
    checks.push({ check: `${disk.file} partition table`, ok: false, detail: (error as Error).message });
    return;
  }
  const tableOk =
    table.diskGuid === disk.guid &&
    disk.partitions.every((p) => table.entries.some((e) => e.number === p.number && e.typeGuid === p.typeGuid && e.uuid === p.uuid && e.offset === p.offset && e.size === p.size));
  checks.push({ check: `${disk.file} partition table`, ok: tableOk, detail: tableOk ? `GPT ${disk.guid}, ${disk.partitions.length} partitions as composed` : 'the GPT differs from the manifest' });
  for (const p of disk.partitions) {
    const expected = manifest.artifacts[p.payload]?.sha256;
    const actual = await sha256Range(path, p.offset, p.payloadSize);
    let detail = `partition ${p.number} (${p.name}) holds ${p.payload}`;
    if (actual !== expected) {
      const block = await firstDifferentBlock(path, p.offset, join(dir, p.payload), p.payloadSize);
      detail =
        block === null
          ? `partition ${p.number} (${p.name}) differs from the manifest's ${p.payload}`
          : `partition ${p.number} (${p.name}) differs from ${p.payload} at block ${block} (disk bytes ${p.offset + block * 4096}..${p.offset + block * 4096 + 4095})`;
    }
    checks.push({ check: `${disk.file} partition ${p.number}`, ok: actual === expected, detail });
  }
  const verity = manifest.verity;
  if (!verity) return;
  const data = disk.partitions.find((p) => p.role === manifest.layout)!;
  const hash = disk.partitions.find((p) => p.role === `${manifest.layout}-verity`)!;
  const dataFile = join(scratch, 'data');
  const hashFile = join(scratch, 'hash');
  await extractRange(path, data.offset, data.payloadSize, dataFile);
  await extractRange(path, hash.offset, hash.payloadSize, hashFile);
  const outcome = await verityVerify(dataFile, hashFile, verity.rootHash, signal);
  checks.push({ check: `${disk.file} verity`, ok: outcome.ok, detail: describeVerity(`partitions ${data.number}+${hash.number}`, outcome, verity.dataBlockSize) });
}

export async function verifyImageDir(dir: string, options: { log: Logger; signal?: AbortSignal }): Promise<VerifyReport> {
  const manifest = await readManifest(dir);
  const checks: VerifyCheck[] = [];
  options.log.info(`verifying ${manifest.image}/${manifest.arch} in ${dir}`);
  await checkArtifacts(dir, manifest, checks);
  const verity = manifest.verity;
  if (verity) {
    const recorded = (await readFile(join(dir, verity.rootHashFile), 'utf8').catch(() => '')).trim();
    checks.push({ check: 'root hash file', ok: recorded === verity.rootHash, detail: recorded === verity.rootHash ? verity.rootHash : `${verity.rootHashFile} says '${recorded}', manifest ${verity.rootHash}` });
    const outcome = await verityVerify(join(dir, manifest.filesystem.file), join(dir, verity.file), verity.rootHash, options.signal);
    checks.push({ check: `${manifest.filesystem.file} verity`, ok: outcome.ok, detail: describeVerity(manifest.filesystem.file, outcome, verity.dataBlockSize) });
    if (manifest.cmdline !== null) {
      const ok = manifest.cmdline.includes(`hash=${verity.rootHash}`);
      checks.push({ check: 'cmdline', ok, detail: ok ? 'names the root hash' : 'the kernel command line does not carry the root hash' });
    }
  }
  if (manifest.disk) {
    const scratch = await mkdtemp(join(tmpdir(), 'strata-verify-'));
    try {
      await checkDisk(dir, manifest, checks, scratch, options.signal);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  const sbomText = await readFile(join(dir, SBOM_FILE), 'utf8').catch(() => null);
  if (sbomText !== null) {
    let problems: string[];
    try {
      problems = validateSpdx(JSON.parse(sbomText));
    } catch (error) {
      problems = [`not JSON: ${(error as Error).message}`];
    }
    checks.push({ check: 'sbom', ok: problems.length === 0, detail: problems.length === 0 ? 'valid SPDX 2.3' : problems.slice(0, 5).join('; ') });
  }
  checks.push(...(await imageProvenanceChecks(dir)));
  return { ok: checks.every((c) => c.ok), image: manifest.image, arch: manifest.arch, dir, rootHash: verity?.rootHash ?? null, checks };
}

export async function verifyImage(model: DistroModel, imageName: string, arch: Arch, options: { log: Logger; signal?: AbortSignal; outRoot?: string }): Promise<VerifyReport> {
  findImage(model, imageName);
  return verifyImageDir(imageDir(model, imageName, arch, options.outRoot), options);
}
