/**
 * No overlay corrupts a spec: every edit every type can make to every section
 * of every package of the fixture specs leaves a spec rpmspec still reads, with
 * the packages it should have (one fewer after spec-remove-subpackage).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import pLimit from 'p-limit';
import { OVERLAY_TYPES } from '../../src/overlays/types/index.js';
import { OverlayFailure, type OverlayContext } from '../../src/overlays/types/type.js';
import { LooseFiles } from '../../src/overlays/files/tree.js';
import { PACKAGELESS_SECTIONS, packageFullName, parseSpec } from '../../src/overlays/spec/model.js';
import { run } from '../../src/util/process.js';
import { COMPONENTS } from './harness.js';

type Op = { type: string; fields: Record<string, unknown>; removes?: string };

/** A line that is valid at the end (or start) of a section of this kind. */
function lineFor(section: string): string | null {
  if (section === '%files') return '%doc STRATA-CHECK';
  if (section === '%description') return 'Text added by an overlay.';
  if (section === '%package') return 'Provides:       strata-check';
  if (section === '%changelog' || section === '%patchlist' || section === '%sourcelist' || section === '%end') return null;
  return ':';
}

function operations(text: string): Op[] {
  const model = parseSpec(text);
  const ops: Op[] = [
    { type: 'spec-add-tag', fields: { tag: 'BuildRequires', value: 'strata-check' } },
    { type: 'spec-insert-tag', fields: { tag: 'Source9999', value: 'strata-check.txt' } },
    { type: 'spec-set-tag', fields: { tag: 'Release', value: '99%{?dist}' } },
    { type: 'spec-prepend-lines', fields: { section: '%changelog', lines: ['* Thu Jan 01 2026 Strata <strata@example.invalid> - 1-99', '- Check.', ''] } },
    { type: 'patch-add', fields: { source: 'strata-check.patch' } },
  ];
  const seen = new Set<string>();
  for (const section of model.sections) {
    if (section.name === '' || !section.name.startsWith('%') || section.name === '%ldconfig_scriptlets') continue;
    const pkg = section.pkg === null ? undefined : (packageFullName(model, section.pkg) ?? undefined);
    const key = `${section.name} ${pkg ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const line = lineFor(section.name);
    const where = { section: section.name, ...(pkg && !PACKAGELESS_SECTIONS.has(section.name) ? { package: pkg } : {}) };
    if (line !== null) {
      ops.push({ type: 'spec-append-lines', fields: { ...where, lines: [line] } });
      ops.push({ type: 'spec-prepend-lines', fields: { ...where, lines: [line] } });
    }
    if (section.name === '%package' && pkg) {
      ops.push({ type: 'spec-add-tag', fields: { tag: 'Requires', value: 'strata-check', package: pkg } });
      ops.push({ type: 'spec-insert-tag', fields: { tag: 'Provides', value: 'strata-check', package: pkg } });
      ops.push({ type: 'spec-remove-subpackage', fields: { package: pkg }, removes: pkg });
    } else if (!['%package', '%description', '%files', '%prep'].includes(section.name)) {
      // A package needs its preamble, description and files, and a build its %prep; any other section can go.
      ops.push({ type: 'spec-remove-section', fields: where });
    }
  }
  return ops;
}

async function apply(text: string, op: Op): Promise<string> {
  const type = OVERLAY_TYPES.find((t) => t.name === op.type)!;
  const context: OverlayContext = {
    component: 'check',
    specFile: 'check.spec',
    spec: text,
    files: async () => new LooseFiles(new Map()),
    readSource: async () => ({ data: Buffer.from('--- a/x\n+++ b/x\n'), mode: 0o644 }),
  };
  await type.apply(context, type.schema.parse(op.fields) as never);
  return context.spec;
}

async function packages(dir: string, name: string, text: string): Promise<string[] | string> {
  const path = join(dir, `${name}.spec`);
  writeFileSync(path, text);
  const result = await run('rpmspec', ['-q', '--qf', '%{name}\n', path], { allowFailure: true });
  return result.exitCode === 0 ? result.stdout.trim().split('\n').sort() : `rpmspec failed: ${result.stderr.trim()}`;
}

test('every overlay edit of every section of the fixture specs leaves a spec rpmspec reads, with the right packages', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-integrity-'));
  const limit = pLimit(4);
  try {
    let tried = 0;
    const refused: string[] = [];
    for (const component of readdirSync(COMPONENTS).sort()) {
      const text = readFileSync(join(COMPONENTS, component, `${component}.spec`), 'utf8');
      const base = await packages(dir, `${component}-base`, text);
      if (!Array.isArray(base)) assert.fail(`${component}: ${base}`);
      const ops = operations(text);
      const results = await Promise.all(
        ops.map((op, i) =>
          limit(async () => {
            let edited: string;
            try {
              edited = await apply(text, op);
            } catch (error) {
              if (!(error instanceof OverlayFailure)) throw error;
              refused.push(`${component} ${op.type}: ${error.message}`);
              return null;
            }
            assert.notEqual(edited, text, `${component}: ${op.type} ${JSON.stringify(op.fields)} changed nothing`);
            return { op, got: await packages(dir, `${component}-${i}`, edited) };
          }),
        ),
      );
      for (const { op, got } of results.filter((r) => r !== null)) {
        const want: string[] = op.removes ? base.filter((p) => p !== op.removes) : base;
        assert.deepEqual(got, want, `${component}: ${op.type} ${JSON.stringify(op.fields)}`);
      }
      tried += ops.length;
    }
    assert.ok(tried > 100, `only ${tried} edits tried`);
    // The one edit the fixtures are built to refuse (see the patch-add-autopatch-range case).
    assert.deepEqual(refused, ["rangefoo patch-add: patch 101 would be applied only where '%autopatch -p1 -m 100' is, inside an %if"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
