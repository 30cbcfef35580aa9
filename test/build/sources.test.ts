import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Component, DistroModel } from '../../src/config/model.js';
import type { RenderedComponent } from '../../src/overlays/model.js';
import type { SpecFacts } from '../../src/spec/model.js';
import { resolveSources } from '../../src/build/sources.js';
import { DigestCache } from '../../src/build/digest-cache.js';
import { StrataErrors } from '../../src/util/errors.js';
import { sha256Hex } from '../../src/util/hash.js';
import { tempDir } from './helpers.js';

const TARBALL = Buffer.from('pretend this is upstream-1.0.tar.gz\n');
const PIN = sha256Hex(TARBALL);

async function setup(root: string, lookaside: string | null, signatures: Record<string, string>) {
  const dir = join(root, 'specs/app');
  await mkdir(dir, { recursive: true });
  const patch = Buffer.from('--- a\n+++ b\n');
  await writeFile(join(dir, 'fix.patch'), patch);
  const sigs = Buffer.from(JSON.stringify({ Signatures: signatures }));
  await writeFile(join(dir, 'app.signatures.json'), sigs);
  const model = { root, build: { lookaside } } as unknown as DistroModel;
  const component = { name: 'app', dir, sourceHashes: {} } as unknown as Component;
  const rendered = {
    name: 'app',
    specFile: 'app.spec',
    specText: 'Name: app\n',
    files: [
      { path: 'app.signatures.json', sha256: sha256Hex(sigs), mode: 0o644, absPath: join(dir, 'app.signatures.json') },
      { path: 'fix.patch', sha256: sha256Hex(patch), mode: 0o644, absPath: join(dir, 'fix.patch') },
    ],
  } as unknown as RenderedComponent;
  const facts = [{ sources: [{ index: 0, name: 'upstream-1.0.tar.gz', url: 'https://example.invalid/upstream-1.0.tar.gz' }], patches: [{ index: 0, name: 'fix.patch' }] }] as unknown as SpecFacts[];
  const cacheDir = join(root, 'cache');
  const context = { model, cacheDir, digests: await DigestCache.open(cacheDir), pendingBlobs: new Map<string, Buffer>() };
  return { resolve: () => resolveSources(component, rendered, facts, context), cacheDir };
}

test('a pinned source outside the component folder is found in a lookaside folder', async () => {
  const t = await tempDir('src-folder');
  try {
    await mkdir(join(t.path, 'lookaside'));
    await writeFile(join(t.path, 'lookaside/upstream-1.0.tar.gz'), TARBALL);
    const { resolve } = await setup(t.path, join(t.path, 'lookaside'), { 'upstream-1.0.tar.gz': PIN });
    const files = await resolve();
    assert.deepEqual(files.map((f) => f.file.path), ['app.signatures.json', 'app.spec', 'fix.patch', 'upstream-1.0.tar.gz']);
    const tarball = files.find((f) => f.file.path === 'upstream-1.0.tar.gz')!;
    assert.equal(tarball.file.sha256, PIN);
    assert.equal(tarball.localPath, join(t.path, 'lookaside/upstream-1.0.tar.gz'));
  } finally {
    await t.remove();
  }
});

test('a URL template lookaside is downloaded once, checked, and kept in the cache by digest', async () => {
  const t = await tempDir('src-url');
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === `/pkgs/upstream-1.0.tar.gz/sha256/${PIN}/upstream-1.0.tar.gz`) res.end(TARBALL);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const { resolve, cacheDir } = await setup(t.path, `http://127.0.0.1:${port}/pkgs/{name}/sha256/{sha256}/{name}`, { 'upstream-1.0.tar.gz': PIN });
    const files = await resolve();
    const tarball = files.find((f) => f.file.path === 'upstream-1.0.tar.gz')!;
    assert.equal(tarball.localPath, join(cacheDir, 'sources', PIN));
    assert.deepEqual(await readFile(tarball.localPath), TARBALL);
    await resolve();
    assert.equal(requests.length, 1, 'the second resolution uses the cached copy');
  } finally {
    server.close();
    await t.remove();
  }
});

test('missing, unpinned and mismatching sources are all reported at once, before any build', async () => {
  const t = await tempDir('src-errors');
  try {
    await mkdir(join(t.path, 'lookaside'));
    await writeFile(join(t.path, 'lookaside/upstream-1.0.tar.gz'), Buffer.from('tampered'));
    const { resolve } = await setup(t.path, join(t.path, 'lookaside'), { 'upstream-1.0.tar.gz': PIN, 'fix.patch': '0'.repeat(64) });
    const error = await resolve().then(() => assert.fail('must fail'), (e: unknown) => e);
    assert.ok(error instanceof StrataErrors);
    const messages = error.errors.map((e) => e.message).sort();
    assert.equal(messages.length, 2);
    assert.match(messages[0]!, /^fix\.patch does not match its pin/);
    assert.match(messages[1]!, /^upstream-1\.0\.tar\.gz does not match its pin: .*lookaside\/upstream-1\.0\.tar\.gz has sha256/);
    const unpinned = await setup(join(t.path, 'other'), null, {});
    const error2 = await unpinned.resolve().then(() => assert.fail('must fail'), (e: unknown) => e);
    assert.ok(error2 instanceof StrataErrors);
    assert.match(error2.errors[0]!.message, /Source0 upstream-1\.0\.tar\.gz is not in .* and has no SHA-256 pin/);
  } finally {
    await t.remove();
  }
});
