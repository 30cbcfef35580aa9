/**
 * The sandbox through the whole CLI: a fixture component whose %build tries
 * what a build must not do (read the invoking user's home and the project's
 * other files, write outside its job folder, connect to a local port, see the
 * host's processes, leave processes running) and prints each outcome; and a
 * component that outlasts `[build] timeout`. Network refusal, writes through
 * `%{_topdir}/..`, executor-level timeouts and abort are covered in
 * test/build/sandbox.test.ts and are not repeated here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { REPO, copyProject, processesMentioning, removeProject, sleep, strata } from './helpers.js';

const FIXTURE = join(REPO, 'test/fixtures/reliability/sandbox');

test('a build cannot read home or project files, write outside its job, reach a local port, see host processes, or leave processes behind', { timeout: 240_000 }, async () => {
  const project = await copyProject('sandbox', { from: FIXTURE });
  const token = randomBytes(8).toString('hex');
  const homeFile = `/root/.strata-rel-probe-${token}`;
  const homeDir = '/root/.strata-rel-probe-dir';
  const projectFile = join(project, 'secret.txt');
  try {
    await writeFile(homeFile, `home-secret-${token}\n`, { mode: 0o644 });
    await mkdir(homeDir, { recursive: true });
    await writeFile(projectFile, `project-secret-${token}\n`);
    await appendFile(
      join(project, 'toolkit.config.toml'),
      `\n[rpm.defines]\nprobe_home_file = "${homeFile}"\nprobe_project_file = "${projectFile}"\nprobe_project_dir = "${project}"\n`,
    );
    const result = await strata(project, ['build', 'probe']);
    assert.equal(result.exitCode, 0, result.stderr);
    const log = await readFile(join(project, 'out/logs/noarch/probe.log'), 'utf8');
    assert.match(log, /^PROBE-done$/m, log);
    const outcomes = Object.fromEntries([...log.matchAll(/^PROBE-([a-z0-9-]+): (allowed|refused)$/gm)].map((m) => [m[1]!, m[2]!]));
    console.log(`# sandbox probes: ${Object.entries(outcomes).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    const expected = ['read-home-file', 'list-home', 'read-project-file', 'read-project-config', 'write-home', 'write-project', 'write-var-tmp', 'write-usr', 'tcp-connect', 'see-host-processes'];
    assert.deepEqual(Object.keys(outcomes).sort(), [...expected].sort());
    // /var/tmp may be a private scratch folder inside the sandbox: what matters is that nothing lands on the host (checked below).
    for (const probe of expected.filter((p) => p !== 'write-var-tmp')) assert.equal(outcomes[probe], 'refused', `probe ${probe}\n${log}`);
    assert.doesNotMatch(log, new RegExp(`(home|project)-secret-${token}`), "no secret's content appears in the log");
    for (const path of ['/root/.strata-rel-probe-written', join(project, 'probe-written'), '/var/tmp/strata-rel-probe-written', '/usr/strata-rel-probe-written']) {
      assert.equal(await stat(path).catch(() => null), null, `${path} must not exist on the host`);
    }
    await sleep(500);
    const left = (await processesMentioning('sleep')).filter((p) => /sleep 313[789]/.test(p.command));
    for (const p of left) process.kill(p.pid, 'SIGKILL');
    assert.deepEqual(left.map((p) => p.command), [], 'processes the build started in the background must not outlive it');
  } finally {
    await rm(homeFile, { force: true });
    await rm(homeDir, { recursive: true, force: true });
    await rm('/var/tmp/strata-rel-probe-written', { force: true });
    await rm('/root/.strata-rel-probe-written', { force: true });
    await rm('/usr/strata-rel-probe-written', { force: true });
    await removeProject(project);
  }
});

test('a job past the configured [build] timeout is killed, the build fails with a clear error, nothing is cached or published', { timeout: 180_000 }, async () => {
  const project = await copyProject('timeout', { from: FIXTURE });
  try {
    const config = join(project, 'toolkit.config.toml');
    await writeFile(config, (await readFile(config, 'utf8')).replace('timeout = 300', 'timeout = 3'));
    const started = Date.now();
    const result = await strata(project, ['build', 'sleeper']);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(result.stderr, /timed out after 3 s/);
    assert.match(result.stderr, /sleeper/);
    assert.ok(seconds < 60, `took ${seconds} s`);
    await sleep(300);
    const left = (await processesMentioning('sleep 3141')).filter((p) => p.command.startsWith('sleep'));
    for (const p of left) process.kill(p.pid, 'SIGKILL');
    assert.deepEqual(left, [], 'the timed-out build\'s processes are gone');
    const jobs = await import('node:fs/promises').then((fs) => fs.readdir(join(project, '.strata-cache/jobs')).catch(() => [] as string[]));
    assert.deepEqual(jobs.filter((n) => !n.startsWith('.')), [], 'no cache entry for a timed-out job');
    console.log(`# timeout: killed after the configured 3 s; the whole build took ${seconds.toFixed(1)} s`);
  } finally {
    await removeProject(project);
  }
});
