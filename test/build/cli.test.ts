/** `strata build` and `strata doctor` as users run them: exit codes, --json, Ctrl-C. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cp, readFile, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FIXTURES, tempDir } from './helpers.js';

const CLI = resolve(import.meta.dirname, '../../src/cli/main.js');

function strata(args: string[], onStderr?: (text: string) => void): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; interrupt: () => void } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    onStderr?.(stderr);
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolvePromise) => child.on('close', (code) => resolvePromise({ code, stdout, stderr })));
  return { done, interrupt: () => child.kill('SIGINT') };
}

async function project(dir: string, components: string[]): Promise<string> {
  await cp(join(FIXTURES, 'project'), dir, { recursive: true });
  for (const name of components) await cp(join(FIXTURES, name), join(dir, 'specs', name), { recursive: true });
  return dir;
}

test('strata build --json: one document with each job\'s status, cache hit, seconds and artifact SHA-256s', async () => {
  const t = await tempDir('cli-json');
  try {
    const dir = await project(t.path, ['hello', 'libgreet', 'greeter']);
    const first = await strata(['build', '-C', dir, '--json', '--all-arches']).done;
    assert.equal(first.code, 0, first.stderr);
    const summary = JSON.parse(first.stdout) as { ok: boolean; counts: { built: number }; jobs: Array<{ job: string; status: string; cacheHit: boolean; seconds: number; artifacts: Array<{ file: string; sha256: string }> }> };
    assert.equal(summary.ok, true);
    assert.equal(summary.counts.built, 5);
    for (const job of summary.jobs) {
      assert.equal(job.cacheHit, false);
      assert.ok(job.seconds > 0);
      for (const artifact of job.artifacts) assert.match(artifact.sha256, /^[0-9a-f]{64}$/);
    }
    const second = await strata(['build', '-C', dir, '--json', '--all-arches']).done;
    const again = JSON.parse(second.stdout) as typeof summary;
    assert.ok(again.jobs.every((job) => job.cacheHit && job.status === 'cached'));
    assert.deepEqual(again.jobs.map((j) => j.artifacts), summary.jobs.map((j) => j.artifacts));
  } finally {
    await t.remove();
  }
});

test('Ctrl-C stops the build: exit 130, no sandbox left running, nothing partial left behind', async () => {
  const t = await tempDir('cli-interrupt');
  try {
    const dir = await project(t.path, ['sleeper']);
    await rm(join(dir, 'overlays/greeter.toml'));
    const logDir = join(dir, 'out/logs/noarch');
    const run = strata(['build', '-C', dir]);
    // Interrupt once the sandboxed rpmbuild is really running.
    for (let i = 0; i < 600; i++) {
      const logs = await readdir(logDir).catch(() => [] as string[]);
      const texts = await Promise.all(logs.map((name) => readFile(join(logDir, name), 'utf8').catch(() => '')));
      if (texts.some((text) => text.includes('strata-sleeper-started'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    run.interrupt();
    const result = await run.done;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /error: interrupted/);
    // Every sandbox of this build mounts this test's folder; none may survive (other tests run sandboxes too).
    assert.equal(spawnSync('pgrep', ['-f', `(bwrap|unshare).*${dir}`]).stdout.toString().trim(), '');
    assert.deepEqual(await readdir(logDir), []);
    assert.deepEqual(await readdir(join(dir, '.strata-cache/.work')), []);
    assert.deepEqual((await readdir(join(dir, '.strata-cache/jobs'))).filter((name) => name.startsWith('.')), []);
    await assert.rejects(readdir(join(dir, 'out/repo')), 'no repository from an interrupted build');
  } finally {
    await t.remove();
  }
});

test('two strata builds on one project and cache at the same time both succeed and agree', async () => {
  const t = await tempDir('cli-concurrent');
  try {
    const dir = await project(t.path, ['hello', 'libgreet', 'greeter']);
    const [a, b] = await Promise.all([strata(['build', '-C', dir, '--json']).done, strata(['build', '-C', dir, '--json']).done]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const artifacts = (out: string) => (JSON.parse(out) as { jobs: Array<{ artifacts: unknown }> }).jobs.map((j) => j.artifacts);
    assert.deepEqual(artifacts(a.stdout), artifacts(b.stdout));
    // One complete entry per key, nothing temporary left, a repository that a third run finds up to date.
    const entries = await readdir(join(dir, '.strata-cache/jobs'));
    assert.equal(entries.length, 3, entries.join(' '));
    const third = await strata(['build', '-C', dir, '--json']).done;
    assert.equal(third.code, 0, third.stderr);
    assert.equal((JSON.parse(third.stdout) as { counts: { cached: number } }).counts.cached, 3);
  } finally {
    await t.remove();
  }
});

test('strata doctor --json reports tools with versions and a working bubblewrap backend', async () => {
  const result = await strata(['doctor', '--json']).done;
  const report = JSON.parse(result.stdout) as { ok: boolean; tools: Array<{ command: string; found: boolean; version: string | null }>; backends: Array<{ backend: string; ok: boolean }> };
  assert.equal(report.ok, true, result.stdout);
  assert.equal(result.code, 0);
  const rpmbuild = report.tools.find((tool) => tool.command === 'rpmbuild')!;
  assert.match(rpmbuild.version ?? '', /RPM version 4\./);
  assert.deepEqual(report.backends.find((b) => b.backend === 'bubblewrap')?.ok, true);
});
