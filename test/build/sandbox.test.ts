/**
 * The bubblewrap executor for real: rpmbuild in the sandbox on tiny fixture
 * specs. Each test says what the sandbox must allow or refuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { createBubblewrapExecutor, runInBubblewrap } from '../../src/build/executors/bubblewrap.js';
import { materializeRoot, resolveBuildRoot, rootLayout } from '../../src/build/build-root.js';
import { DigestCache } from '../../src/build/digest-cache.js';
import type { SandboxSpec } from '../../src/build/sandbox.js';
import type { JobResult } from '../../src/build/executor.js';
import { memoryLogger } from '../../src/util/log.js';
import type { Arch } from '../../src/config/model.js';
import { FIXTURES, fixtureBundle, tempDir } from './helpers.js';

async function build(name: string, arch: Arch, cacheDir: string, extra: { deps?: string[]; fixtures?: string; timeoutSeconds?: number; signal?: AbortSignal } = {}) {
  const { bundle, blobs } = await fixtureBundle(name, { arch, cacheDir, dependencyRpms: extra.deps, fixtures: extra.fixtures, timeoutSeconds: extra.timeoutSeconds });
  const executor = createBubblewrapExecutor({ cacheDir, log: memoryLogger() });
  const outputDir = join(cacheDir, 'out', name, arch);
  await mkdir(outputDir, { recursive: true });
  const logFile = join(cacheDir, `${name}-${arch}.log`);
  const result: JobResult = await executor.run({ bundle, blobs, outputDir, logFile, signal: extra.signal });
  return { result, outputDir, log: await readFile(logFile, 'utf8').catch(() => ''), bundle };
}

/** `file` output for each file of an RPM's payload. */
function describePayload(rpm: string, scratch: string): string {
  execFileSync('sh', ['-c', 'rpm2cpio "$1" | cpio -idm --quiet', 'sh', rpm], { cwd: scratch });
  return execFileSync('sh', ['-c', 'find . -type f -exec file {} +'], { cwd: scratch, encoding: 'utf8' });
}

test('a C program builds for x86_64 in the sandbox; its ELF is x86-64', async () => {
  const t = await tempDir('sbx-x86');
  try {
    const { result, outputDir } = await build('hello', 'x86_64', t.path);
    assert.equal(result.status, 'succeeded', result.logTail.join('\n'));
    assert.deepEqual(result.artifacts.map((a) => a.file), ['hello-1.0-1.t1.x86_64.rpm']);
    const scratch = join(t.path, 'payload');
    await mkdir(scratch);
    assert.match(describePayload(join(outputDir, result.artifacts[0]!.file), scratch), /hello: ELF 64-bit LSB .*x86-64/);
  } finally {
    await t.remove();
  }
});

test('an aarch64 build cross-compiles: every ELF in the RPM is ARM aarch64', async () => {
  const t = await tempDir('sbx-arm');
  try {
    const { result, outputDir } = await build('hello', 'aarch64', t.path);
    assert.equal(result.status, 'succeeded', result.logTail.join('\n'));
    assert.deepEqual(result.artifacts.map((a) => a.file), ['hello-1.0-1.t1.aarch64.rpm']);
    const scratch = join(t.path, 'payload');
    await mkdir(scratch);
    const described = describePayload(join(outputDir, result.artifacts[0]!.file), scratch);
    const elves = described.split('\n').filter((line) => line.includes('ELF'));
    assert.ok(elves.length > 0, described);
    for (const line of elves) assert.match(line, /ARM aarch64/);
  } finally {
    await t.remove();
  }
});

test('the same inputs in two different folders give byte-identical RPMs (both arches)', async () => {
  const a = await tempDir('repro-a');
  const b = await tempDir('repro-b-longer-name');
  try {
    // The second build reads its sources from a copy in another folder, with another cache.
    const copy = join(b.path, 'fixtures-elsewhere');
    await cp(join(FIXTURES, 'hello'), join(copy, 'hello'), { recursive: true });
    for (const arch of ['x86_64', 'aarch64'] as const) {
      const first = await build('hello', arch, a.path);
      const second = await build('hello', arch, b.path, { fixtures: copy });
      assert.equal(first.result.status, 'succeeded');
      assert.equal(second.result.status, 'succeeded');
      assert.equal(first.bundle.key, second.bundle.key, 'same inputs, same cache key');
      assert.deepEqual(first.result.artifacts, second.result.artifacts, `${arch}: RPM names and SHA-256 differ`);
    }
  } finally {
    await a.remove();
    await b.remove();
  }
});

test('a build that tries to reach the network fails', async () => {
  const t = await tempDir('sbx-net');
  try {
    const { result, log } = await build('netprobe', 'x86_64', t.path);
    assert.equal(result.status, 'failed');
    assert.match(log, /Network is unreachable/);
    assert.doesNotMatch(log, /^NETWORK-REACHED/m);
  } finally {
    await t.remove();
  }
});

test('a build that writes outside its job folder fails, and nothing appears on the host', async () => {
  const t = await tempDir('sbx-escape');
  try {
    const { result, log } = await build('escape', 'x86_64', t.path);
    assert.equal(result.status, 'failed');
    assert.match(log, /strata-escape-marker: Read-only file system/);
    await assert.rejects(stat('/strata-escape-marker'));
  } finally {
    await t.remove();
  }
});

test('a missing BuildRequires fails with rpm\'s message naming the requirement', async () => {
  const t = await tempDir('sbx-missing');
  try {
    const { result } = await build('needsmissing', 'x86_64', t.path);
    assert.equal(result.status, 'failed');
    assert.equal(result.exitCode, 11);
    assert.equal(result.reason, 'Failed build dependencies: libdoesnotexist-devel >= 3 is needed by needsmissing-1.0-1.noarch');
  } finally {
    await t.remove();
  }
});

test('a dependency RPM satisfies BuildRequires for real and its files are visible; without it the build fails', async () => {
  const t = await tempDir('sbx-deps');
  try {
    const lib = await build('libgreet', 'x86_64', t.path);
    assert.equal(lib.result.status, 'succeeded', lib.result.logTail.join('\n'));
    const devel = join(lib.outputDir, lib.result.artifacts.find((a) => a.file.startsWith('libgreet-devel'))!.file);
    const withDep = await build('greeter', 'x86_64', t.path, { deps: [devel] });
    assert.equal(withDep.result.status, 'succeeded', withDep.result.logTail.join('\n'));
    const without = await build('greeter', 'x86_64', join(t.path, 'other'));
    assert.equal(without.result.status, 'failed');
    assert.match(without.result.reason ?? '', /libgreet-devel >= 2 is needed by greeter/);
  } finally {
    await t.remove();
  }
});

test('with an imported root, the sandbox sees that root (read-only), not the host', async () => {
  const t = await tempDir('sbx-root');
  try {
    // A tarball root holding only a static busybox.
    const tree = join(t.path, 'tree');
    await mkdir(join(tree, 'usr/bin'), { recursive: true });
    await mkdir(join(tree, 'etc'), { recursive: true });
    await cp('/bin/busybox', join(tree, 'usr/bin/busybox'));
    await writeFile(join(tree, 'etc/os-release'), 'ID=tiny\n');
    execFileSync('sh', ['-c', 'ln -s busybox usr/bin/sh && ln -s usr/bin bin && tar -czf ../root.tar.gz --owner=0 --group=0 .'], { cwd: tree });
    const cacheDir = join(t.path, 'cache');
    const root = await resolveBuildRoot({ type: 'tarball', path: join(t.path, 'root.tar.gz'), provides: [] }, await DigestCache.open(cacheDir));
    const rootDir = await materializeRoot(root.identity, root.blobs, cacheDir);
    const layout = await rootLayout(rootDir);
    assert.deepEqual(layout.symlinks, [{ name: 'bin', target: 'usr/bin' }]);
    const spec: SandboxSpec = {
      trees: [
        { target: '/usr', layers: [join(rootDir, 'usr')] },
        { target: '/etc', layers: [join(rootDir, 'etc')] },
      ],
      binds: [],
      symlinks: layout.symlinks.map((link) => ({ path: `/${link.name}`, target: link.target })),
      tmpfs: ['/tmp'],
      env: { PATH: '/usr/bin' },
      cwd: '/',
      command: ['/bin/sh', '-c', 'cat /etc/os-release; test -e /usr/bin/rpmbuild && echo HOST-VISIBLE; busybox touch /usr/bin/x || echo READ-ONLY'],
      scratchDir: join(t.path, 'mnt'),
    };
    const result = await runInBubblewrap(spec, { logFile: join(t.path, 'log') });
    assert.equal(result.exitCode, 0, result.all);
    assert.match(result.stdout, /^ID=tiny$/m);
    assert.doesNotMatch(result.stdout, /HOST-VISIBLE/);
    assert.match(result.stdout, /READ-ONLY/);
  } finally {
    await t.remove();
  }
});

test('a job past its timeout is killed and reported as timed out', async () => {
  const t = await tempDir('sbx-timeout');
  try {
    const startedAt = Date.now();
    const { result } = await build('sleeper', 'x86_64', t.path, { timeoutSeconds: 2 });
    assert.equal(result.status, 'failed');
    assert.equal(result.timedOut, true);
    assert.match(result.reason ?? '', /timed out after 2 s/);
    assert.ok(Date.now() - startedAt < 30_000);
  } finally {
    await t.remove();
  }
});

test('aborting stops the sandbox: no rpmbuild process survives, nothing is left in the output folder', async () => {
  const t = await tempDir('sbx-abort');
  try {
    const abort = new AbortController();
    const logFile = join(t.path, 'sleeper-x86_64.log');
    const watcher = setInterval(() => {
      void readFile(logFile, 'utf8')
        .then((text) => text.includes('strata-sleeper-started') && abort.abort())
        .catch(() => undefined);
    }, 100);
    try {
      await assert.rejects(build('sleeper', 'x86_64', t.path, { signal: abort.signal }), (error: { kind?: string }) => error.kind === 'interrupted');
    } finally {
      clearInterval(watcher);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Every sandbox of this job mounts this test's folder; none may survive (other tests run sandboxes too).
    const survivors = spawnSync('pgrep', ['-f', `(bwrap|unshare).*${t.path}`]).stdout.toString().trim();
    assert.equal(survivors, '');
    assert.deepEqual(await readdir(join(t.path, 'out', 'sleeper', 'x86_64')), []);
    assert.deepEqual(await readdir(join(t.path, '.work')), []);
  } finally {
    await t.remove();
  }
});
