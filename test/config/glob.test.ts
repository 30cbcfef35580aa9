import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { expandGlob, globMatcher, hasGlobMagic } from '../../src/config/glob.js';
import { loadProject } from '../../src/config/load.js';

function tree(files: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'strata-glob-'));
  for (const file of files) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), '');
  }
  return root;
}

test('globMatcher', () => {
  const cases: Array<[string, string, boolean]> = [
    ['specs/*/*.spec', 'specs/zlib/zlib.spec', true],
    ['specs/*/*.spec', 'specs/zlib/sub/zlib.spec', false],
    ['specs/*/*.spec', 'specs/.hidden/x.spec', false],
    ['specs/.hidden/*.spec', 'specs/.hidden/x.spec', true],
    ['specs/**/*.spec', 'specs/x.spec', true],
    ['specs/**/*.spec', 'specs/a/b/c/x.spec', true],
    ['specs/**', 'specs/a/b', true],
    ['specs/?ib/*', 'specs/lib/x', true],
    ['specs/?ib/*', 'specs/glib/x', false],
    ['specs/[a-c]*/*', 'specs/bash/x', true],
    ['specs/[!a-c]*/*', 'specs/bash/x', false],
    ['specs/[!a-c]*/*', 'specs/zsh/x', true],
    ['specs/a+b(1).spec', 'specs/a+b(1).spec', true],
    ['specs/a.spec', 'specs/aXspec', false],
  ];
  for (const [pattern, path, expected] of cases) assert.equal(globMatcher(pattern)(path), expected, `${pattern} vs ${path}`);
  assert.equal(hasGlobMagic('a/b.toml'), false);
  assert.equal(hasGlobMagic('a/*.toml'), true);
});

test('expandGlob lists matching files in path order', (t) => {
  const root = tree(['specs/b/b.spec', 'specs/a/a.spec', 'specs/a/notes.txt', 'specs/a/deep/c.spec', 'specs/.git/x.spec', 'specs/dir.spec/inner']);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.deepEqual(expandGlob(root, 'specs/*/*.spec'), ['specs/a/a.spec', 'specs/b/b.spec']);
  assert.deepEqual(expandGlob(root, 'specs/**/*.spec'), ['specs/a/a.spec', 'specs/a/deep/c.spec', 'specs/b/b.spec']);
  assert.deepEqual(expandGlob(root, 'specs/**'), ['specs/a/a.spec', 'specs/a/deep/c.spec', 'specs/a/notes.txt', 'specs/b/b.spec', 'specs/dir.spec/inner']);
  assert.deepEqual(expandGlob(root, 'nowhere/*.spec'), []);
  assert.deepEqual(expandGlob(root, 'specs/a/a.spec'), ['specs/a/a.spec']);
});

test('a glob declaration over 1,500 spec folders loads in well under a second', async (t) => {
  const names = Array.from({ length: 1500 }, (_, i) => `pkg-${String(i).padStart(4, '0')}`);
  const root = tree(names.map((name) => `SPECS/${name}/${name}.spec`));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(
    join(root, 'toolkit.config.toml'),
    '[distro]\nname = "big"\nversion = "1"\nsource-date-epoch = 0\n\n[[component-globs]]\npath = "SPECS/*/*.spec"\nexclude = ["SPECS/pkg-0000/*"]\n\n[components.pkg-0001]\narches = ["x86_64"]\n',
  );
  let model = await loadProject({ cwd: root }); // also warms the file-system cache
  // The best of three, so that a busy machine (parallel test files) does not decide.
  let seconds = Infinity;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    model = await loadProject({ cwd: root });
    seconds = Math.min(seconds, (performance.now() - started) / 1000);
  }
  assert.equal(Object.keys(model.components).length, 1499);
  assert.equal(model.components['pkg-0000'], undefined);
  assert.deepEqual(model.components['pkg-0001']?.arches, ['x86_64']);
  assert.deepEqual(Object.keys(model.components), names.slice(1));
  assert.ok(seconds < 1, `loading took ${seconds.toFixed(3)} s`);
});
