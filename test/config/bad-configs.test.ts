/**
 * The corpus of broken projects under test/fixtures/config/bad/<case>/: each
 * case's expected.txt holds the exact first line of every error, in order, with
 * file names relative to the case folder. Regenerate after a deliberate change
 * with STRATA_UPDATE_GOLDENS=1 (then review the diff).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../../src/config/load.js';
import { StrataErrors, renderError } from '../../src/util/errors.js';
import { writeFileAtomic } from '../../src/util/atomic.js';

const BAD = fileURLToPath(new URL('../../../test/fixtures/config/bad/', import.meta.url));
const update = process.env.STRATA_UPDATE_GOLDENS === '1';

async function errorLines(dir: string): Promise<string> {
  try {
    await loadProject({ cwd: dir, displayBase: dir });
  } catch (error) {
    assert.ok(error instanceof StrataErrors, `expected StrataErrors, got ${String(error)}`);
    for (const e of error.errors) assert.ok(e.location, `error without a location: ${e.message}`);
    return error.errors.map((e) => `${renderError(e).split('\n')[0]}\n`).join('');
  }
  assert.fail(`${dir} loaded without errors`);
}

const cases = readdirSync(BAD).sort();

test('the corpus covers every required kind of problem', () => {
  const required = ['syntax-error', 'unknown-key', 'unknown-key-nested', 'wrong-type', 'bad-enum', 'missing-required', 'duplicate-component', 'include-cycle', 'missing-include', 'missing-spec', 'path-escape', 'duplicate-glob-name', 'bad-arch'];
  assert.deepEqual(required.filter((name) => !cases.includes(name)), []);
});

for (const name of cases) {
  test(`bad config: ${name}`, async () => {
    const dir = join(BAD, name);
    const actual = await errorLines(dir);
    const expectedFile = join(dir, 'expected.txt');
    if (update) return writeFileAtomic(expectedFile, actual);
    assert.equal(actual, readFileSync(expectedFile, 'utf8'), `errors for ${name} changed; if intended, rerun with STRATA_UPDATE_GOLDENS=1 and review`);
  });
}
