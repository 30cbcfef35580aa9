/**
 * The example distro through the real config loader and the real CLI: its
 * overlays apply, its rendered tree matches the golden listing
 * (test/fixtures/overlays/golden/, STRATA_UPDATE_GOLDEN=1 rewrites it), render
 * is byte-for-byte repeatable, and render --check / failing overlays behave as
 * CI relies on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../../src/config/load.js';
import { checkOverlays, renderComponents } from '../../src/overlays/render.js';
import { renderedTree } from '../../src/overlays/write.js';
import { run } from '../../src/util/process.js';
import { walkTree } from '../../src/util/paths.js';
import { sha256File } from '../../src/util/hash.js';
import { FIXTURES, UPDATE_GOLDEN } from './harness.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO, 'dist/src/cli/main.js');
const GOLDEN = join(FIXTURES, 'golden');

/** A private copy of the example project, so tests can break it. */
function exampleCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-example-'));
  for (const name of ['toolkit.config.toml', 'specs', 'overlays']) cpSync(join(REPO, name), join(dir, name), { recursive: true });
  return dir;
}

function strata(project: string, ...args: string[]) {
  return run('node', [CLI, ...args], { cwd: project, allowFailure: true, env: { NO_COLOR: '1' } });
}

async function digest(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await walkTree(dir)) out.push(`${entry.path} ${entry.type} ${entry.mode.toString(8)} ${entry.type === 'file' ? await sha256File(entry.absPath) : ''}`);
  return out;
}

test('the example distro renders as the golden listing says', async () => {
  const model = await loadProject({ cwd: REPO, displayBase: REPO });
  checkOverlays(model);
  const rendered = await renderComponents(model);
  assert.ok(rendered.some((c) => c.effects.length > 0), 'the example distro has overlays');
  if (UPDATE_GOLDEN) {
    rmSync(GOLDEN, { recursive: true, force: true });
    mkdirSync(GOLDEN, { recursive: true });
    for (const component of rendered) {
      writeFileSync(join(GOLDEN, `${component.name}.spec`), component.specText);
      writeFileSync(join(GOLDEN, `${component.name}.files`), renderedTree(component).map((f) => `${f.path} ${f.mode.toString(8)} ${f.sha256}\n`).join(''));
    }
  }
  assert.deepEqual(readdirSync(GOLDEN).filter((f) => f.endsWith('.spec')).map((f) => f.slice(0, -5)).sort(), rendered.map((c) => c.name), 'golden components (STRATA_UPDATE_GOLDEN=1 after changing the example distro)');
  for (const component of rendered) {
    assert.equal(component.specText, readFileSync(join(GOLDEN, `${component.name}.spec`), 'utf8'), `${component.name}: rendered spec`);
    const files = renderedTree(component).map((f) => `${f.path} ${f.mode.toString(8)} ${f.sha256}\n`).join('');
    assert.equal(files, readFileSync(join(GOLDEN, `${component.name}.files`), 'utf8'), `${component.name}: rendered files`);
  }
});

test('strata render twice gives identical trees; validate writes nothing; an edited file makes render --check exit 1', async () => {
  const project = exampleCopy();
  try {
    const validate = await strata(project, 'validate');
    assert.equal(validate.exitCode, 0, validate.stderr);
    assert.equal(existsSync(join(project, 'out')), false, 'validate writes nothing');
    const first = await strata(project, 'render');
    assert.equal(first.exitCode, 0, first.stderr);
    const before = await digest(join(project, 'out/rendered'));
    assert.equal((await strata(project, 'render')).exitCode, 0);
    assert.deepEqual(await digest(join(project, 'out/rendered')), before);
    const clean = await strata(project, 'render', '--check');
    assert.equal(clean.exitCode, 0, clean.stdout + clean.stderr);
    const spec = join(project, 'out/rendered/greet/greet.spec');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('%changelog', '%changelog\n# hand edit'));
    const drift = await strata(project, 'render', '--check');
    assert.equal(drift.exitCode, 1);
    assert.match(drift.stdout, /^1 component\(s\) differ from what the config renders \(run strata render\):\n {2}greet:\n {4}changed {2}greet\.spec\n$/);
    const json = await strata(project, 'render', '--check', '--json');
    assert.equal(json.exitCode, 1);
    assert.deepEqual(JSON.parse(json.stdout).drift, [{ component: 'greet', changed: ['greet.spec'], missing: [], extra: [], state: 'differs' }]);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});

async function failsWithOneLocatedError(project: string, pattern: RegExp): Promise<void> {
  const result = await strata(project, 'render');
  assert.equal(result.exitCode, 1, result.stdout + result.stderr);
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
  assert.equal(errors.length, 1, result.stderr);
  assert.match(errors[0]!, pattern);
  assert.equal(existsSync(join(project, 'out')), false, 'nothing written');
}

test('a search-replace that matches nothing exits 1 with one FILE:LINE:COL message and writes nothing', async () => {
  const project = exampleCopy();
  try {
    const toml = join(project, 'overlays/tinyinit.toml');
    const text = readFileSync(toml, 'utf8');
    const line = text.split('\n').findIndex((l) => l.startsWith("regex = '%\\{dist_cflags\\} -static'")) + 1;
    assert.ok(line > 0, 'the example still has the tinyinit search-replace');
    writeFileSync(toml, text.replace("regex = '%\\{dist_cflags\\} -static'", "regex = 'no such text'"));
    await failsWithOneLocatedError(project, new RegExp(`^error: overlays/tinyinit\\.toml:${line}:1: \\[component tinyinit\\] overlay 3 \\(spec-search-replace .*\\) did not apply: regex /no such text/ matched nothing in %build$`));
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});

test('a file overlay path escaping its folder exits 1 with one FILE:LINE:COL message and writes nothing', async () => {
  const project = exampleCopy();
  try {
    const toml = join(project, 'overlays/filesystem.toml');
    const text = readFileSync(toml, 'utf8');
    const line = text.split('\n').findIndex((l) => l === 'file = "issue"') + 1;
    assert.ok(line > 0, 'the example still has the filesystem file-add');
    writeFileSync(toml, text.replace('file = "issue"', 'file = "../greet/issue"'));
    await failsWithOneLocatedError(project, new RegExp(`^error: overlays/filesystem\\.toml:${line}:1: \\[component filesystem\\] overlay 3 \\(file-add .*\\): file '\\.\\./greet/issue' escapes its folder`));
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});

test('strata diff attributes every hunk to its overlay, in text and JSON', async () => {
  const text = await strata(REPO, 'diff', 'tinyinit');
  assert.equal(text.exitCode, 0, text.stderr);
  const headers = text.stdout.split('\n').filter((l) => l.startsWith('@@'));
  assert.ok(headers.length > 0);
  for (const header of headers) assert.match(header, /^@@ -\d+(,\d+)? \+\d+(,\d+)? @@ overlay \d+ spec-[a-z-]+ ".*" \(overlays\/tinyinit\.toml:\d+:\d+\)$/);
  const json = await strata(REPO, 'diff', 'tinyinit', '--json');
  const parsed = JSON.parse(json.stdout) as { files: Array<{ hunks: Array<{ overlay: { index: number; type: string } }> }> };
  assert.deepEqual(parsed.files[0]!.hunks.map((h) => h.overlay.type).length, headers.length);
  const unknown = await strata(REPO, 'diff', 'tinyint');
  assert.equal(unknown.exitCode, 2);
  assert.match(unknown.stderr, /unknown component 'tinyint' \(did you mean 'tinyinit'\?\)/);
});
