/**
 * Table-driven overlay cases: each folder under test/fixtures/overlays/cases/
 * names a component and a list of overlays, and holds either `expected.diff`
 * (the attributed diff of base versus rendered) or `expected-error.txt`.
 * Rendered specs must still parse with rpmspec, and the diff must rebuild the
 * rendered spec from the base. STRATA_UPDATE_GOLDEN=1 rewrites the goldens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import TOML from '@iarna/toml';
import { diffComponent, formatDiff } from '../../src/overlays/diff/index.js';
import { renderComponent } from '../../src/overlays/render.js';
import { StrataError, StrataErrors, renderError } from '../../src/util/errors.js';
import { run } from '../../src/util/process.js';
import { COMPONENTS, FIXTURES, UPDATE_GOLDEN, componentAt, modelWith, overlaysFrom } from './harness.js';
import { splitLines } from '../../src/overlays/diff/attribute.js';

const CASES = join(FIXTURES, 'cases');

function errorText(error: unknown): string {
  const errors = error instanceof StrataErrors ? error.errors : error instanceof StrataError ? [error] : null;
  if (errors === null) throw error;
  return `${errors.map(renderError).join('\n')}\n`;
}

/** Applies a file's unified hunks to its base text (checks the diff says what render did). */
function applyHunks(base: string[], hunks: Array<{ oldStart: number; oldLines: number; lines: string[] }>): string[] {
  const out: string[] = [];
  let next = 0;
  for (const hunk of hunks) {
    const start = hunk.oldLines === 0 ? hunk.oldStart : hunk.oldStart - 1;
    out.push(...base.slice(next, start));
    next = start;
    for (const line of hunk.lines) {
      if (line.startsWith('+')) out.push(line.slice(1));
      else {
        assert.equal(base[next], line.slice(1), `hunk context/deletion mismatch at base line ${next + 1}`);
        if (line.startsWith(' ')) out.push(line.slice(1));
        next++;
      }
    }
  }
  return [...out, ...base.slice(next)];
}

async function rpmspecParses(specText: string, dir: string): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'strata-spec-'));
  try {
    writeFileSync(join(tmp, 'test.spec'), specText);
    const result = await run('rpmspec', ['-P', join(tmp, 'test.spec'), '--define', `_sourcedir ${dir}`], { allowFailure: true });
    assert.equal(result.exitCode, 0, `rendered spec does not parse:\n${result.stderr}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

for (const name of readdirSync(CASES).sort()) {
  test(`overlay case ${name}`, async () => {
    const folder = join(CASES, name);
    const meta = TOML.parse(readFileSync(join(folder, 'case.toml'), 'utf8')) as { component: string };
    const component = componentAt(join(COMPONENTS, meta.component), overlaysFrom(join(folder, 'case.toml')));
    const model = modelWith([component]);
    const expectedDiff = join(folder, 'expected.diff');
    const expectedError = join(folder, 'expected-error.txt');
    let actual: { kind: 'diff' | 'error'; text: string };
    let rendered: Awaited<ReturnType<typeof renderComponent>> | null = null;
    let diff: Awaited<ReturnType<typeof diffComponent>> | null = null;
    try {
      diff = await diffComponent(model, component);
      rendered = await renderComponent(model, component);
      actual = { kind: 'diff', text: formatDiff(diff) };
    } catch (error) {
      actual = { kind: 'error', text: errorText(error) };
    }
    if (UPDATE_GOLDEN) {
      rmSync(expectedDiff, { force: true });
      rmSync(expectedError, { force: true });
      writeFileSync(actual.kind === 'diff' ? expectedDiff : expectedError, actual.text);
    }
    if (existsSync(expectedError)) {
      assert.equal(actual.kind, 'error', `expected an error, but the overlays applied:\n${actual.text}`);
      assert.equal(actual.text, readFileSync(expectedError, 'utf8'));
      return;
    }
    assert.ok(existsSync(expectedDiff), `case ${name} has no expected.diff or expected-error.txt (run with STRATA_UPDATE_GOLDEN=1)`);
    assert.equal(actual.kind, 'diff', `expected success, got:\n${actual.text}`);
    assert.equal(actual.text, readFileSync(expectedDiff, 'utf8'));
    assert.ok(rendered && diff);
    assert.notEqual(actual.text, '', 'a success case must change something');
    const specDiff = diff.files.find((f) => f.path === rendered.specFile);
    if (specDiff) {
      assert.deepEqual(applyHunks(splitLines(rendered.baseSpecText), specDiff.hunks), splitLines(rendered.specText));
      await rpmspecParses(rendered.specText, component.dir);
    }
  });
}
