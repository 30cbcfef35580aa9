/**
 * The audit commands as a user runs them: the built CLI in a child process,
 * its exit status, stdout (one JSON document with --json) and stderr.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const main = resolve(import.meta.dirname, '../../src/cli/main.js');
const fixture = resolve(import.meta.dirname, '../../../test/fixtures/audit/project');

function strata(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [main, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function project(t: { after: (fn: () => Promise<void>) => void }, withGit: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-audit-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await cp(fixture, dir, { recursive: true });
  if (withGit) {
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: dir });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'fixture');
  }
  return dir;
}

for (const command of ['explain', 'why', 'affected', 'cache']) {
  test(`strata ${command} --help shows usage and examples`, () => {
    const result = strata(process.cwd(), command, '--help');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^strata ${command}`));
    assert.match(result.stdout, /Examples:\n {2}strata /);
  });
}

// Mistakes a user makes, and what strata must answer: exit status and message.
const mistakes: Array<[string, string[], number, RegExp]> = [
  ['export without an archive', ['cache', 'export'], 2, /strata cache export needs an archive path/],
  ['gc without a limit', ['cache', 'gc'], 2, /needs --max-size/],
  ['gc with a size that is not one', ['cache', 'gc', '--max-size', 'lots'], 2, /'lots' is not a size/],
  ['import of an archive that does not exist', ['cache', 'import', 'missing.tar.gz'], 1, /does not exist/],
  ['why in an image that does not exist', ['why', 'fx-app', '--image', 'bsae'], 1, /no image named 'bsae' \(did you mean 'base'\?\)/],
  ['explain of a component that does not exist', ['explain', 'fx-ap'], 2, /unknown component 'fx-ap' \(did you mean 'fx-app'\?\)/],
  ['affected outside git', ['affected'], 1, /is not inside a git repository/],
];

for (const [name, args, status, message] of mistakes) {
  test(`strata ${name}: exit ${status} with a clear message`, async (t) => {
    const dir = await project(t, false);
    const result = strata(dir, ...args);
    assert.equal(result.status, status, result.stderr);
    assert.match(result.stderr, message);
  });
}

test('strata cache import --missing-ok succeeds on a first CI run', async (t) => {
  const dir = await project(t, false);
  const result = strata(dir, 'cache', 'import', 'ci-cache.tar.gz', '--missing-ok', '--json');
  assert.equal(result.status, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).missing, true);
});

test('strata affected --json prints one document with files, components per arch and a summary', async (t) => {
  const dir = await project(t, true);
  await appendFile(join(dir, 'overlays/files/fx-app.msg'), 'changed\n');
  const result = strata(dir, 'affected', '--json');
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.deepEqual(report.files.map((f: { path: string; components: string[] }) => [f.path, f.components]), [['overlays/files/fx-app.msg', ['fx-app']]]);
  assert.deepEqual(report.summary, { arches: { x86_64: ['fx-app'], aarch64: ['fx-app'] }, images: ['base'] });
  const text = strata(dir, 'affected');
  assert.match(text.stdout, /overlays\/files\/fx-app\.msg\s+→ fx-app \(overlay source of fx-app\)/);
});
