/**
 * Every file a build reads, pinned by SHA-256 and found before any build
 * starts. Pins come from the signatures file next to the spec, in Azure
 * Linux's shape (`NAME.signatures.json`: `{"Signatures": {"file": "sha256"}}`),
 * with pins from config ([components.X] source-hashes) taking precedence.
 *
 * A source or patch that lives in the component folder (or was added by an
 * overlay) is part of the project, so its identity is its content; if it is
 * pinned too, the pin must match. A source that is not in the project
 * (upstream tarballs) must be pinned, and is fetched from the lookaside folder
 * or URL template by name and digest, into `<cacheDir>/sources/<sha256>`.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Component, DistroModel } from '../config/model.js';
import type { RenderedComponent, RenderedFile } from '../overlays/model.js';
import type { SpecFacts } from '../spec/model.js';
import { writeFileAtomic } from '../util/atomic.js';
import { StrataError, StrataErrors } from '../util/errors.js';
import { sha256Hex } from '../util/hash.js';
import type { DigestCache } from './digest-cache.js';
import type { LocalFile } from './bundle.js';
import { displayPath } from '../config/config-file.js';

export interface SignaturesFile {
  path: string;
  pins: Record<string, string>;
}

/** The file name of a spec's signatures file (`foo.spec` → `foo.signatures.json`). */
export function signaturesName(specFile: string): string {
  return `${specFile.replace(/\.spec$/, '')}.signatures.json`;
}

async function fileBytes(file: RenderedFile): Promise<Buffer> {
  if (file.data) return file.data;
  return readFile(file.absPath!);
}

export async function readSignatures(component: Component, rendered: RenderedComponent): Promise<SignaturesFile | null> {
  const name = signaturesName(rendered.specFile);
  const file = rendered.files.find((f) => f.path === name);
  if (!file) return null;
  const path = join(component.dir, name);
  let parsed: unknown;
  try {
    parsed = JSON.parse((await fileBytes(file)).toString('utf8'));
  } catch (error) {
    throw new StrataError(`${shown(path)}: not valid JSON: ${(error as Error).message}`, { kind: 'input', component: component.name });
  }
  const signatures = (parsed as { Signatures?: unknown } | null)?.Signatures;
  if (signatures === null || typeof signatures !== 'object' || Array.isArray(signatures)) {
    throw new StrataError(`${path}: expected {"Signatures": {"FILE": "SHA256", …}}`, { kind: 'input', component: component.name });
  }
  const pins: Record<string, string> = {};
  for (const [fileName, hash] of Object.entries(signatures as Record<string, unknown>)) {
    if (typeof hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hash)) {
      throw new StrataError(`${path}: the signature of ${fileName} is not a SHA-256 hex digest`, { kind: 'input', component: component.name });
    }
    pins[fileName] = hash.toLowerCase();
  }
  return { path, pins };
}

export interface SourceContext {
  model: DistroModel;
  cacheDir: string;
  digests: DigestCache;
  signal?: AbortSignal;
  /**
   * Bytes that exist only in memory (rendered specs, overlay-made files), by the
   * blob path they will have. Written by `storeBlobs` once every source of the
   * build checked out, so a refused build leaves nothing in the cache.
   */
  pendingBlobs: Map<string, Buffer>;
}

/** Content-addressed store for in-memory bytes: the path is the digest. */
function blobPath(context: SourceContext, data: Buffer): string {
  const path = join(context.cacheDir, 'blobs', sha256Hex(data));
  context.pendingBlobs.set(path, data);
  return path;
}

export async function storeBlobs(pendingBlobs: ReadonlyMap<string, Buffer>): Promise<void> {
  for (const [path, data] of pendingBlobs) {
    const st = await stat(path).catch(() => null);
    if (!st || st.size !== data.length) await writeFileAtomic(path, data);
  }
}

async function renderedLocal(file: RenderedFile, context: SourceContext): Promise<LocalFile> {
  const localPath = file.absPath ?? blobPath(context, file.data!);
  const size = file.data ? file.data.length : (await stat(localPath)).size;
  return { file: { path: file.path, sha256: file.sha256, size, mode: file.mode & 0o777 }, localPath };
}

function lookasideLocation(template: string, name: string, sha256: string): string {
  const filled = template.replaceAll('{name}', encodeURIComponent(name)).replaceAll('{sha256}', sha256);
  if (/^https?:\/\//.test(template)) return filled;
  return template.includes('{name}') || template.includes('{sha256}') ? template.replaceAll('{name}', name).replaceAll('{sha256}', sha256) : join(template, name);
}

/** Finds a source outside the project by name and pin; returns null when it is nowhere. */
async function fetchPinned(name: string, sha256: string, context: SourceContext, component: string): Promise<LocalFile | null> {
  const cached = join(context.cacheDir, 'sources', sha256);
  const lookaside = context.model.build.lookaside;
  const have = await stat(cached).catch(() => null);
  if (!have && lookaside !== null) {
    const location = lookasideLocation(lookaside, name, sha256);
    let data: Buffer | null = null;
    if (/^https?:\/\//.test(location)) {
      const response = await fetch(location, { signal: context.signal }).catch((error: unknown) => {
        throw new StrataError(`cannot download ${name} from ${location}: ${(error as Error).message}`, { kind: 'input', component });
      });
      if (response.ok) data = Buffer.from(await response.arrayBuffer());
      else if (response.status !== 404) throw new StrataError(`downloading ${name} from ${location}: HTTP ${response.status}`, { kind: 'input', component });
    } else if ((await stat(location).catch(() => null))?.isFile()) {
      const actual = await context.digests.sha256(location);
      if (actual !== sha256) throw mismatch(name, location, actual, sha256, component);
      return { file: { path: name, sha256, size: (await stat(location)).size, mode: 0o644 }, localPath: location };
    }
    if (data !== null) {
      const actual = sha256Hex(data);
      if (actual !== sha256) throw mismatch(name, location, actual, sha256, component);
      await writeFileAtomic(cached, data);
    }
  }
  const st = await stat(cached).catch(() => null);
  if (!st) return null;
  // The store is named by digest; check it, since a damaged file must never reach a build.
  const actual = await context.digests.sha256(cached);
  if (actual !== sha256) throw mismatch(name, cached, actual, sha256, component, 'delete the damaged file; it is fetched again');
  return { file: { path: name, sha256, size: st.size, mode: 0o644 }, localPath: cached };
}

/** Paths in messages as the user typed them: relative to where strata runs. */
function shown(path: string): string {
  return displayPath(path, process.cwd());
}

function mismatch(name: string, where: string, actual: string, expected: string, component: string, hint?: string): StrataError {
  return new StrataError(`${name} does not match its pin: ${shown(where)} has sha256 ${actual}, expected ${expected}`, {
    kind: 'input',
    component,
    hint: hint ?? 'update the signatures file only if the new file is the one you mean to build',
  });
}

/**
 * The files a component's build reads: the rendered spec, every file of its
 * folder after overlays, and the pinned sources found outside it. Throws
 * StrataErrors with every missing or mismatching source of the component.
 */
export async function resolveSources(component: Component, rendered: RenderedComponent, facts: SpecFacts[], context: SourceContext): Promise<LocalFile[]> {
  const signatures = await readSignatures(component, rendered);
  const pins: Record<string, string> = { ...(signatures?.pins ?? {}), ...component.sourceHashes };
  const errors: StrataError[] = [];
  const files = new Map<string, LocalFile>();
  const specBytes = Buffer.from(rendered.specText);
  files.set(rendered.specFile, {
    file: { path: rendered.specFile, sha256: sha256Hex(specBytes), size: specBytes.length, mode: 0o644 },
    localPath: blobPath(context, specBytes),
  });
  const mismatched = new Set<string>();
  for (const file of rendered.files) {
    const pin = pins[file.path];
    if (pin !== undefined && pin !== file.sha256) {
      errors.push(mismatch(file.path, join(component.dir, file.path), file.sha256, pin, component.name));
      mismatched.add(file.path);
      continue;
    }
    files.set(file.path, await renderedLocal(file, context));
  }
  const wanted = new Map<string, string>();
  for (const fact of facts) {
    for (const source of fact.sources) wanted.set(source.name, `Source${source.index}`);
    for (const patch of fact.patches) wanted.set(patch.name, `Patch${patch.index}`);
  }
  for (const name of Object.keys(pins)) if (!wanted.has(name)) wanted.set(name, 'pinned file');
  for (const [name, tag] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (files.has(name) || mismatched.has(name)) continue;
    const pin = pins[name];
    if (pin === undefined) {
      errors.push(
        new StrataError(`${tag} ${name} is not in ${shown(component.dir)} and has no SHA-256 pin to fetch it by`, {
          kind: 'input',
          component: component.name,
          hint: `add it to ${signaturesName(rendered.specFile)} ({"Signatures": {"${name}": "<sha256>"}}) and to the lookaside, or put it next to the spec`,
        }),
      );
      continue;
    }
    try {
      const found = await fetchPinned(name, pin, context, component.name);
      if (found) files.set(name, found);
      else {
        errors.push(
          new StrataError(`${tag} ${name} (sha256 ${pin.slice(0, 12)}…) was not found`, {
            kind: 'input',
            component: component.name,
            hint:
              context.model.build.lookaside === null
                ? `put it in ${component.dir}, or set [build] lookaside to the folder or URL template that has it`
                : `looked in ${component.dir} and at ${lookasideLocation(context.model.build.lookaside, name, pin)}`,
          }),
        );
      }
    } catch (error) {
      if (!(error instanceof StrataError)) throw error;
      errors.push(error);
    }
  }
  if (errors.length > 0) {
    throw new StrataErrors(errors);
  }
  return [...files.values()].sort((a, b) => (a.file.path < b.file.path ? -1 : 1));
}
