/**
 * The engine around the overlay types: all-or-nothing per component, every
 * component's failure reported, deterministic output, the drift check and the
 * fingerprint's sensitivity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { OverlaySpec } from '../../src/config/model.js';
import { checkOverlays, renderComponent, renderComponents } from '../../src/overlays/render.js';
import { checkRendered, writeRendered } from '../../src/overlays/write.js';
import { StrataErrors, renderError } from '../../src/util/errors.js';
import { walkTree } from '../../src/util/paths.js';
import { sha256File } from '../../src/util/hash.js';
import { COMPONENTS, componentAt, modelWith } from './harness.js';

function overlay(index: number, type: string, fields: Record<string, unknown>, line = index * 10): OverlaySpec {
  const location = { file: 'inline.toml', line, col: 1 };
  const fieldLocations = Object.fromEntries(Object.keys(fields).map((k, i) => [k, { file: 'inline.toml', line: line + i + 1, col: 1 }]));
  return { type, fields, description: null, category: null, upstreamStatus: null, location, fieldLocations, index };
}

const good = (): OverlaySpec[] => [
  overlay(1, 'spec-set-tag', { tag: 'Release', value: '9%{?dist}' }),
  overlay(2, 'file-search-replace', { archive: 'libfoo-2.1.tar.gz', file: 'src/foo.c', regex: '64', replacement: '65' }),
  overlay(3, 'patch-add', { source: 'inputs/fix-crash.patch' }),
];

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'strata-engine-test-'));
}

async function treeDigest(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await walkTree(dir)) out.push(`${entry.path} ${entry.type} ${entry.mode.toString(8)} ${entry.type === 'file' ? await sha256File(entry.absPath) : ''}`);
  return out;
}

test('rendering twice writes byte-identical trees with modes kept, and the check finds no drift', async () => {
  const model = modelWith([componentAt(join(COMPONENTS, 'libfoo'), good()), componentAt(join(COMPONENTS, 'autofoo'), [])]);
  const a = tempDir();
  const b = tempDir();
  try {
    await writeRendered(a, await renderComponents(model), true);
    await writeRendered(b, await renderComponents(model), true);
    const digestA = await treeDigest(a);
    assert.deepEqual(digestA, await treeDigest(b));
    assert.ok(digestA.some((line) => line.startsWith('libfoo/scripts/check.sh file 755 ')), 'modes kept');
    assert.ok(digestA.some((line) => line.startsWith('libfoo/fix-crash.patch file 644 ')));
    assert.match(readFileSync(join(a, 'libfoo/libfoo.spec'), 'utf8'), /^Release:        9%\{\?dist\}$/m);
    assert.deepEqual(await checkRendered(a, await renderComponents(model), true), []);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('render --check reports edited, missing, extra and re-moded files and stale component folders', async () => {
  const model = modelWith([componentAt(join(COMPONENTS, 'libfoo'), good()), componentAt(join(COMPONENTS, 'autofoo'), [])]);
  const out = tempDir();
  try {
    const rendered = await renderComponents(model);
    await writeRendered(out, rendered, true);
    writeFileSync(join(out, 'libfoo/libfoo.spec'), readFileSync(join(out, 'libfoo/libfoo.spec'), 'utf8').replace('9%{?dist}', '10%{?dist}'));
    rmSync(join(out, 'libfoo/fix-crash.patch'));
    writeFileSync(join(out, 'autofoo/notes.txt'), 'x');
    chmodSync(join(out, 'autofoo/autofoo.spec'), 0o755);
    mkdirSync(join(out, 'gone'));
    const drift = await checkRendered(out, rendered, true);
    assert.deepEqual(drift, [
      { component: 'autofoo', changed: ['autofoo.spec'], missing: [], extra: ['notes.txt'], state: 'differs' },
      { component: 'gone', changed: [], missing: [], extra: [], state: 'foreign' },
      { component: 'libfoo', changed: ['libfoo.spec'], missing: ['fix-crash.patch'], extra: [], state: 'differs' },
    ]);
    // Checking only some components ignores the others' folders.
    assert.deepEqual((await checkRendered(out, rendered.filter((c) => c.name === 'autofoo'))).map((d) => d.component), ['autofoo']);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('a full render drops folders it wrote for components that no longer exist, and nothing else', async () => {
  const out = tempDir();
  try {
    await writeRendered(out, await renderComponents(modelWith([componentAt(join(COMPONENTS, 'libfoo'), []), componentAt(join(COMPONENTS, 'autofoo'), [])])), true);
    mkdirSync(join(out, 'not-ours'));
    const remaining = await renderComponents(modelWith([componentAt(join(COMPONENTS, 'autofoo'), [])]));
    assert.deepEqual((await checkRendered(out, remaining, true)).map((d) => [d.component, d.state]), [['libfoo', 'stale'], ['not-ours', 'foreign']]);
    await writeRendered(out, remaining, true);
    assert.equal(existsSync(join(out, 'libfoo')), false);
    assert.equal(existsSync(join(out, 'autofoo/autofoo.spec')), true);
    assert.equal(existsSync(join(out, 'not-ours')), true);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('render never replaces a folder it did not write', async () => {
  const out = tempDir();
  try {
    mkdirSync(join(out, 'libfoo'));
    writeFileSync(join(out, 'libfoo/precious.txt'), 'keep');
    const rendered = await renderComponents(modelWith([componentAt(join(COMPONENTS, 'libfoo'), []), componentAt(join(COMPONENTS, 'autofoo'), [])]));
    await assert.rejects(writeRendered(out, rendered, true), /already has 'libfoo', which strata render did not write there/);
    assert.equal(readFileSync(join(out, 'libfoo/precious.txt'), 'utf8'), 'keep');
    assert.equal(existsSync(join(out, 'autofoo')), false, 'nothing written');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('all-or-nothing: when a later overlay fails, nothing of the component is rendered or written', async () => {
  const out = tempDir();
  const work = tempDir();
  try {
    const dir = join(work, 'libfoo');
    cpSync(join(COMPONENTS, 'libfoo'), dir, { recursive: true });
    const before = await treeDigest(dir);
    const overlays = [
      overlay(1, 'file-search-replace', { file: 'libfoo.conf', regex: 'verbose = false', replacement: 'verbose = true' }),
      overlay(2, 'spec-search-replace', { section: '%build', regex: 'no-such-text', replacement: 'x' }, 40),
    ];
    const component = componentAt(dir, overlays, 'libfoo.spec');
    const model = modelWith([component, componentAt(join(COMPONENTS, 'autofoo'), [])]);
    await assert.rejects(
      async () => writeRendered(out, await renderComponents(model), true),
      (error: unknown) => {
        assert.ok(error instanceof StrataErrors);
        assert.deepEqual(error.errors.map(renderError), [
          "inline.toml:42:1: [component libfoo] overlay 2 (spec-search-replace) did not apply: regex /no-such-text/ matched nothing in %build",
        ]);
        return true;
      },
    );
    assert.deepEqual(await walkTree(out), [], 'nothing written');
    assert.deepEqual(await treeDigest(dir), before, 'the component folder is never modified');
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
});

test('every failing component is reported, sorted, and unknown names get a suggestion', async () => {
  const bad = (name: string) => componentAt(join(COMPONENTS, name), [overlay(1, 'spec-update-tag', { tag: 'Epoch', value: '1' })]);
  const model = modelWith([bad('listfoo'), bad('autofoo'), componentAt(join(COMPONENTS, 'libfoo'), [])]);
  await assert.rejects(renderComponents(model), (error: unknown) => {
    assert.ok(error instanceof StrataErrors);
    assert.deepEqual(error.errors.map((e) => e.component), ['autofoo', 'listfoo']);
    return true;
  });
  await assert.rejects(renderComponents(model, ['libfo']), (error: unknown) => {
    assert.ok(error instanceof StrataErrors);
    assert.equal(error.errors[0]!.kind, 'usage');
    assert.match(error.errors[0]!.message, /unknown component 'libfo' \(did you mean 'libfoo'\?\)/);
    return true;
  });
  const rendered = await renderComponents(model, ['libfoo']);
  assert.deepEqual(rendered.map((c) => c.name), ['libfoo']);
});

test('checkOverlays collects every invalid overlay of every component', () => {
  const model = modelWith([
    componentAt(join(COMPONENTS, 'libfoo'), [overlay(1, 'spec-add-tag', { tag: 'Requires' }), overlay(2, 'file-remove', { file: '/etc/passwd' })]),
    componentAt(join(COMPONENTS, 'autofoo'), [overlay(1, 'spec-remove-subpackages', { package: 'x' })]),
  ]);
  assert.throws(() => checkOverlays(model), (error: unknown) => {
    assert.ok(error instanceof StrataErrors);
    assert.deepEqual(error.errors.map(renderError).map((t) => t.split('\n')[0]), [
      "inline.toml:10:1: [component autofoo] overlay 1: unknown overlay type 'spec-remove-subpackages' (did you mean 'spec-remove-subpackage'?)",
      "inline.toml:10:1: [component libfoo] overlay 1 (spec-add-tag): spec-add-tag needs the field 'value'",
      "inline.toml:21:1: [component libfoo] overlay 2 (file-remove): file '/etc/passwd' escapes its folder (absolute or with '..')",
    ]);
    return true;
  });
});

test('the fingerprint follows content and overlay definitions, not where they are written', async () => {
  const dir = join(COMPONENTS, 'autofoo');
  const base = [overlay(1, 'spec-set-tag', { tag: 'Release', value: '2%{?dist}' })];
  const fingerprint = async (overlays: OverlaySpec[], root?: string) => {
    const component = componentAt(root ?? dir, overlays);
    return (await renderComponent(modelWith([component]), component)).fingerprint;
  };
  const reference = await fingerprint(base);
  assert.match(reference, /^[0-9a-f]{64}$/);
  assert.equal(await fingerprint([overlay(1, 'spec-set-tag', { tag: 'Release', value: '2%{?dist}' }, 99)]), reference, 'positions do not count');
  assert.notEqual(await fingerprint([{ ...base[0]!, description: 'why' }]), reference, 'metadata counts');
  assert.notEqual(await fingerprint([overlay(1, 'spec-set-tag', { tag: 'Release', value: '3%{?dist}' })]), reference);
  const work = tempDir();
  try {
    cpSync(dir, join(work, 'autofoo'), { recursive: true });
    assert.equal(await fingerprint(base, join(work, 'autofoo')), reference, 'the checkout location does not count');
    chmodSync(join(work, 'autofoo/autofoo-0.9-no-werror.patch'), 0o600);
    assert.notEqual(await fingerprint(base, join(work, 'autofoo')), reference, 'file modes count');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a spec in Latin-1 (old changelogs) is read as such, never mangled', async () => {
  const work = tempDir();
  try {
    const dir = join(work, 'latin');
    mkdirSync(dir);
    const head = 'Name: latin\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\n%description\nd\n%changelog\n* Mon Jan 01 2001 Ren';
    writeFileSync(join(dir, 'latin.spec'), Buffer.concat([Buffer.from(head), Buffer.from([0xe9]), Buffer.from(' <r@example.invalid> - 1-1\n- x\n')]));
    const component = componentAt(dir, [overlay(1, 'spec-set-tag', { tag: 'Release', value: '2' })]);
    const rendered = await renderComponent(modelWith([component], work), component);
    assert.match(rendered.specText, /^Release: 2$/m);
    assert.match(rendered.specText, /^\* Mon Jan 01 2001 René <r@example\.invalid> - 1-1$/m);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
