/**
 * The bad-input corpus (test/bad-input/): every case must fail with exit status
 * 1 and one specific error line, and leave the project exactly as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import TOML from '@iarna/toml';
import { execa } from 'execa';
import { walkTree } from '../../src/util/paths.js';
import { sha256File } from '../../src/util/hash.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const corpus = join(repo, 'test/bad-input');
const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface BadInputCase {
  description: string;
  args?: string[];
  expect: string;
  'expect-also'?: string[];
  edit?: Array<{ file: string; search: string; replace: string }>;
  write?: Array<{ file: string; content: string }>;
  remove?: string[];
}

/**
 * Spec evaluation caches are pure functions of their inputs (a rendered spec and
 * the macro context) and hold no build result, so a failed run may keep them.
 */
const derivedCaches = ['.strata-cache/spec-facts', '.strata-cache/rpm-config'];

async function snapshot(root: string): Promise<Map<string, string>> {
  const state = new Map<string, string>();
  for (const entry of await walkTree(root)) {
    if (derivedCaches.some((prefix) => entry.path === prefix || entry.path.startsWith(`${prefix}/`))) continue;
    // Folders alone hold nothing a later run could trust (scratch and lease folders stay).
    if (entry.type === 'dir' && (entry.path === '.strata-cache' || entry.path.startsWith('.strata-cache/'))) continue;
    state.set(entry.path, entry.type === 'file' ? await sha256File(entry.absPath) : entry.type);
  }
  return state;
}

async function prepare(name: string, spec: BadInputCase): Promise<string> {
  const project = await mkdtemp(join(tmpdir(), `strata-bad-${name}-`));
  await cp(join(corpus, '_base'), project, { recursive: true });
  for (const edit of spec.edit ?? []) {
    const path = join(project, edit.file);
    const text = await readFile(path, 'utf8');
    assert.ok(text.includes(edit.search), `case ${name}: '${edit.search}' does not occur in ${edit.file}`);
    await writeFile(path, text.replace(edit.search, edit.replace));
  }
  for (const write of spec.write ?? []) {
    await mkdir(dirname(join(project, write.file)), { recursive: true });
    await writeFile(join(project, write.file), write.content);
  }
  for (const path of spec.remove ?? []) await rm(join(project, path), { recursive: true });
  return project;
}

const names = (await readdir(corpus, { withFileTypes: true }))
  .filter((entry) => entry.isDirectory() && !entry.name.startsWith('_'))
  .map((entry) => entry.name)
  .sort();

test('the corpus holds at least 60 cases', () => {
  assert.ok(names.length >= 60, `only ${names.length} cases`);
});

for (const name of names) {
  test(`bad input: ${name}`, async () => {
    const spec = TOML.parse(await readFile(join(corpus, name, 'case.toml'), 'utf8')) as unknown as BadInputCase;
    const project = await prepare(name, spec);
    try {
      const before = await snapshot(project);
      const result = await execa('node', [cli, ...(spec.args ?? ['validate'])], {
        cwd: project,
        reject: false,
        env: { NO_COLOR: '1', CI: 'true' },
        timeout: 120_000,
      });
      const errorLines = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
      const context = `${spec.description}\nstderr:\n${result.stderr}`;
      assert.equal(result.exitCode, 1, `exit status\n${context}`);
      assert.equal(errorLines.length, 1, `exactly one error line\n${context}`);
      const [line] = errorLines as [string];
      for (const expected of [spec.expect, ...(spec['expect-also'] ?? [])]) {
        assert.ok(line.includes(expected), `error line should contain '${expected}'\n${context}`);
      }
      assert.equal(result.stdout, '', 'nothing on stdout');
      assert.deepEqual(await snapshot(project), before, `the project must be left untouched\n${context}`);
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });
}
