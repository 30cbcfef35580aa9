import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { BuildCache } from '../../src/build/cache.js';
import { cacheKey, keyInputs } from '../../src/build/bundle.js';
import type { JobBundle } from '../../src/build/executor.js';
import { explainChange, type InputRecord } from '../../src/build/history.js';
import { sha256Hex } from '../../src/util/hash.js';
import { FIXTURES, tempDir } from './helpers.js';

/** A real RPM to store (the cache reads NAME and ARCH from its header): a noarch fixture built with plain rpmbuild. */
async function fixtureRpm(dir: string): Promise<{ file: string; sha256: string; size: number }> {
  const top = join(dir, 'top');
  await mkdir(top, { recursive: true });
  execFileSync('rpmbuild', ['-bb', '--define', `_topdir ${top}`, '--define', '_buildhost strata', '--quiet', join(FIXTURES, 'needsmissing', 'needsmissing.spec'), '--nodeps'], {
    env: { ...process.env, SOURCE_DATE_EPOCH: '1767225600', HOME: dir },
    stdio: 'ignore',
  });
  const file = 'needsmissing-1.0-1.noarch.rpm';
  const out = join(dir, 'out');
  await mkdir(out, { recursive: true });
  const data = await readFile(join(top, 'RPMS', 'noarch', file));
  await writeFile(join(out, file), data);
  return { file, sha256: sha256Hex(data), size: data.length };
}

const KEY = 'a'.repeat(64);

test('a stored entry is found again, with RPM name and arch read from the header', async () => {
  const t = await tempDir('cache-store');
  try {
    const artifact = await fixtureRpm(t.path);
    const log = join(t.path, 'job.log');
    await writeFile(log, 'build log\n');
    const cache = new BuildCache(join(t.path, 'cache'));
    const stored = await cache.store(KEY, 'needsmissing/noarch', 1.5, join(t.path, 'out'), [artifact], log);
    assert.deepEqual(stored.artifacts, [{ ...artifact, name: 'needsmissing', arch: 'noarch' }]);
    const found = await cache.lookup(KEY);
    assert.equal(found.hit, true);
    assert.deepEqual(found.hit && found.entry.artifacts, stored.artifacts);
    assert.equal(await readFile(cache.logPath(stored), 'utf8'), 'build log\n');
    // Nothing temporary is left next to the entry.
    assert.deepEqual(await readdir(join(t.path, 'cache', 'jobs')), [KEY]);
    assert.equal((await cache.lookup('b'.repeat(64))).hit, false);
  } finally {
    await t.remove();
  }
});

test('a damaged entry (flipped byte, truncated file, missing file, bad manifest) is never trusted and is removed', async () => {
  const damages: Array<[string, (rpm: string, dir: string) => Promise<void>, RegExp]> = [
    ['flipped byte', async (rpm) => {
      const data = await readFile(rpm);
      data[data.length - 1] ^= 0xff;
      await writeFile(rpm, data);
    }, /has sha256/],
    ['truncated', async (rpm) => writeFile(rpm, (await readFile(rpm)).subarray(0, 100)), /bytes, the manifest says/],
    ['missing rpm', async (rpm) => rm(rpm), /is missing/],
    ['bad manifest', async (_rpm, dir) => writeFile(join(dir, 'manifest.json'), '{"format": 1'), /not a valid entry manifest/],
  ];
  for (const [what, damage, detail] of damages) {
    const t = await tempDir('cache-damage');
    try {
      const artifact = await fixtureRpm(t.path);
      const cache = new BuildCache(join(t.path, 'cache'));
      const entry = await cache.store(KEY, 'needsmissing/noarch', 1, join(t.path, 'out'), [artifact], join(t.path, 'no-log'));
      await damage(cache.artifactPath(entry, artifact), entry.dir);
      const lookup = await cache.lookup(KEY);
      assert.equal(lookup.hit, false, what);
      assert.ok(!lookup.hit && lookup.reason === 'damaged' && detail.test(lookup.detail), `${what}: ${JSON.stringify(lookup)}`);
      assert.deepEqual(await readdir(join(t.path, 'cache', 'jobs')), [], `${what}: the damaged entry is gone`);
    } finally {
      await t.remove();
    }
  }
});

const base: Omit<JobBundle, 'key'> = {
  format: 'strata-job/1',
  job: 'greet/x86_64',
  component: 'greet',
  arch: 'x86_64',
  noarch: false,
  specFile: 'greet.spec',
  sources: [{ path: 'greet.spec', sha256: '1'.repeat(64), size: 10, mode: 0o644 }, { path: 'greet.c', sha256: '2'.repeat(64), size: 10, mode: 0o644 }],
  dependencyRpms: [{ path: 'libgreet-devel-1-1.x86_64.rpm', sha256: '3'.repeat(64), size: 10, mode: 0o644 }],
  rpmConfig: [{ path: 'macros', sha256: '4'.repeat(64), size: 10, mode: 0o644 }],
  rpmArgs: ['--target', 'x86_64'],
  env: { SOURCE_DATE_EPOCH: '1' },
  buildRoot: { type: 'host', id: '5'.repeat(64), provides: ['gcc'], archives: [] },
  sourceDateEpoch: 1,
  check: true,
  timeoutSeconds: 100,
  recipe: 'strata-rpmbuild/1',
};

test('the cache key changes with every input that can change the output, and only with those', () => {
  const key = cacheKey(base);
  const changes: Array<[string, Partial<Omit<JobBundle, 'key'>>]> = [
    ['rendered spec', { sources: [{ ...base.sources[0]!, sha256: '9'.repeat(64) }, base.sources[1]!] }],
    ['a source', { sources: [base.sources[0]!, { ...base.sources[1]!, sha256: '9'.repeat(64) }] }],
    ['a patch added', { sources: [...base.sources, { path: 'fix.patch', sha256: '8'.repeat(64), size: 1, mode: 0o644 }] }],
    ['a dependency RPM', { dependencyRpms: [{ ...base.dependencyRpms[0]!, sha256: '9'.repeat(64) }] }],
    ['build root identity', { buildRoot: { ...base.buildRoot, id: '9'.repeat(64) } }],
    ['build root provides', { buildRoot: { ...base.buildRoot, provides: ['gcc', 'make'] } }],
    ['arch', { arch: 'aarch64' }],
    ['macro files', { rpmConfig: [{ ...base.rpmConfig[0]!, sha256: '9'.repeat(64) }] }],
    ['macro defines', { rpmArgs: ['--target', 'x86_64', '--define', 'x 1'] }],
    ['environment', { env: { SOURCE_DATE_EPOCH: '2' } }],
    ['build recipe version', { recipe: 'strata-rpmbuild/2' }],
    ['%check', { check: false }],
    ['source date epoch', { sourceDateEpoch: 2 }],
    ['executable bit of a source', { sources: [base.sources[0]!, { ...base.sources[1]!, mode: 0o755 }] }],
  ];
  for (const [what, change] of changes) assert.notEqual(cacheKey({ ...base, ...change }), key, `${what} must change the key`);
  // Not outputs: the timeout, the order files were listed in, the size field (the digest covers the bytes).
  assert.equal(cacheKey({ ...base, timeoutSeconds: 5 }), key);
  assert.equal(cacheKey({ ...base, sources: [...base.sources].reverse() }), key);
  assert.ok(!('timeoutSeconds' in keyInputs(base)));
});

const record = (over: Partial<InputRecord> = {}): InputRecord => ({
  job: 'greet/x86_64',
  key: 'k1',
  recipe: 'r1',
  buildRoot: 'root1',
  macros: 'm1',
  spec: { file: 'greet.spec', base: 'b1', rendered: 'r1' },
  overlays: [{ index: 1, type: 'spec-set-tag', at: 'overlays/greet.toml:4', description: 'bump release', sha256: 'o1' }],
  sources: { 'greet.c': 's1' },
  dependencies: { 'libgreet-devel-1.0-1.x86_64.rpm': 'd1' },
  settings: 'x',
  ...over,
});

test('explain names the overlay that changed, with its place in the config', () => {
  const before = record();
  const after = record({ key: 'k2', spec: { file: 'greet.spec', base: 'b1', rendered: 'r2' }, overlays: [{ ...before.overlays[0]!, sha256: 'o2' }] });
  assert.deepEqual(explainChange(before, after), ['overlay #1 (spec-set-tag) at overlays/greet.toml:4 changed: bump release']);
});

test('explain names sources, dependencies, macros, build root, recipe; and first builds', () => {
  const before = record();
  assert.deepEqual(explainChange(null, before), ['no earlier build of this job is recorded']);
  assert.deepEqual(explainChange(before, { ...before }), []);
  assert.deepEqual(explainChange(before, record({ key: 'k2', sources: { 'greet.c': 's2' } })), ['source greet.c changed (s1 → s2)']);
  assert.deepEqual(explainChange(before, record({ key: 'k2', dependencies: { 'libgreet-devel-1.0-1.x86_64.rpm': 'd2' } })), ['dependency libgreet-devel was rebuilt with different bytes']);
  assert.deepEqual(explainChange(before, record({ key: 'k2', macros: 'm2' })), ['the macro context changed (rpm configuration, macro files or defines)']);
  assert.deepEqual(explainChange(before, record({ key: 'k2', buildRoot: 'root2' })), ['the build root changed (its packages or image)']);
  assert.deepEqual(explainChange(before, record({ key: 'k2', recipe: 'r2' })), ["strata's build recipe changed (r1 → r2)"]);
  assert.deepEqual(explainChange(before, record({ key: 'k2', spec: { file: 'greet.spec', base: 'b2', rendered: 'r2' } })), ['spec file greet.spec changed']);
});
