/**
 * The commands through the real CLI entry point on a project folder: exit
 * statuses, --json documents, and what a user sees for a tampered image.
 * (Booting is covered by boot.test.ts; here only its refusal without a marker.)
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/util/process.js';
import { FIXTURES, fixtureRepo } from './fixture.js';
import { flipByte } from './helpers.js';

const MAIN = resolve(fileURLToPath(new URL('../../src/cli/main.js', import.meta.url)));
let project: string;
let repo: string;

const strata = (...args: string[]) => run('node', [MAIN, '-C', project, ...args], { allowFailure: true, env: { NO_COLOR: '1' } });

before(async () => {
  repo = await fixtureRepo('x86_64');
  project = join(await mkdtemp(join(tmpdir(), 'strata-cli-')), 'project');
  await cp(join(FIXTURES, 'project'), project, { recursive: true });
});

test('compose, repro and verify: --json documents and exit statuses; a tampered image fails verify', async () => {
  const compose = await strata('compose', 'fx', '--repo', repo, '--json');
  assert.equal(compose.exitCode, 0, compose.stderr);
  const composed = JSON.parse(compose.stdout) as { outDir: string; rootHash: string; manifest: { packages: Array<{ nevra: string }> } };
  assert.equal(composed.outDir, join(project, 'out/images/fx/x86_64'));
  assert.match(composed.rootHash, /^[0-9a-f]{64}$/);
  assert.equal(composed.manifest.packages.length, 3);

  const text = await strata('compose', 'fx', '--repo', repo);
  assert.match(text.stdout, /^fx-init-1\.0-1\.x86_64\s+\d/m, 'the size report lists every package');
  assert.match(text.stdout, new RegExp(`root hash: ${composed.rootHash}`), 'recomposing gives the same root hash');

  const verify = await strata('verify', 'fx', '--json');
  assert.equal(verify.exitCode, 0, verify.stdout);
  assert.equal((JSON.parse(verify.stdout) as { ok: boolean }).ok, true);

  const repro = await strata('repro', 'fx', '--repo', repo, '--json');
  assert.equal(repro.exitCode, 0, repro.stderr.slice(-2000));
  const reproReport = JSON.parse(repro.stdout) as { identical: boolean; artifacts: Record<string, string> };
  assert.equal(reproReport.identical, true);
  assert.equal(reproReport.artifacts['root.roothash'] !== undefined, true);

  await flipByte(join(composed.outDir, 'root.erofs'), 4096 + 1);
  const tampered = await strata('verify', 'fx');
  assert.equal(tampered.exitCode, 1);
  assert.match(tampered.stdout, /FAIL {2}artifact root\.erofs: sha256/);
  assert.match(tampered.stdout, /FAIL {2}root\.erofs verity: root\.erofs: data block 1 \(bytes 4096\.\.8191\) does not match the hash tree/);
  assert.match(tampered.stdout, /TAMPERED/);
});

test('usage and input errors map to their exit statuses', async () => {
  const unknown = await strata('compose', 'fz', '--repo', repo);
  assert.equal(unknown.exitCode, 1);
  assert.match(unknown.stderr, /no image named 'fz' \(did you mean 'fx'\?\)/);
  const noRepo = await strata('compose', 'fx', '--no-build');
  assert.equal(noRepo.exitCode, 1);
  assert.match(noRepo.stderr, /no package repository at .*out\/repo\/x86_64/);
  const badArch = await strata('compose', 'fx', '--arch', 'riscv64');
  assert.equal(badArch.exitCode, 2);
  const noMarker = await strata('boot', 'nomarker');
  assert.equal(noMarker.exitCode, 1);
  assert.match(noMarker.stderr, /has no boot-marker/);
});
