/**
 * Mutation fuzzing of the two stages that read what users write: the config
 * loader (`loadProject` on mutated toolkit.config.toml and include texts) and
 * the overlay engine (`checkOverlays` + `renderComponents` with mutated overlay
 * tables against the overlay test suite's real spec fixtures).
 *
 * Every iteration must end in a model or in StrataError/StrataErrors whose
 * every error carries a location (file:line:col) — never another exception,
 * never a hang (each iteration is timed). The PRNG is seeded: iteration i of
 * a run uses seed+i, so a failure replays with STRATA_FUZZ_SEED and the
 * printed iteration. STRATA_FUZZ_ITERATIONS scales the run (default below).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import TOML from '@iarna/toml';
import { loadProject } from '../../src/config/load.js';
import { checkOverlays, renderComponents } from '../../src/overlays/render.js';
import { StrataError, StrataErrors } from '../../src/util/errors.js';
import { REPO } from './helpers.js';
import { seededRandom as prng } from '../../src/util/prng.js';

const SEED = Number(process.env.STRATA_FUZZ_SEED ?? 20261125);
const CONFIG_ITERATIONS = Number(process.env.STRATA_FUZZ_ITERATIONS ?? 2000);
const OVERLAY_ITERATIONS = Math.round(CONFIG_ITERATIONS / 2);
/** One iteration may take this long (generous: the machine may be loaded). */
const ITERATION_LIMIT_MS = 5_000;

interface Rng {
  next: () => number;
  int: (n: number) => number;
  pick: <T>(items: readonly T[]) => T;
}

function rngFor(seed: number): Rng {
  const next = prng(seed);
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)]! };
}

const NASTY = ['', ' ', '"', "'", '[', ']', '{', '}', '=', '\n', '\\', '\\u00', '#', ',', '.', '..', '../..', '/', '*', '**', '\0', '\t', '-1', '1e999', 'NaN', 'inf', '0x10', '"""', "'''", 'true', '[[', ']]', '{a=1}', '🙂', '%{', '%{?dist}', '(', '(?<', '.*+', '${HOME}'];
const VALUES = ['"x"', '1', '-1', '0', '1.5', 'true', 'false', '[]', '["a", 1]', '{}', '{ a = "b" }', '"../../etc/passwd"', '"/abs"', '"*"', '1979-05-27T07:32:00Z', '"x86_64"', '["x86_64"]', '"' + 'a'.repeat(300) + '"'];

/** One text mutation, named for the report. */
function mutateText(text: string, rng: Rng): { text: string; how: string } {
  const lines = text.split('\n');
  const line = rng.int(lines.length);
  switch (rng.int(9)) {
    case 0: {
      const bytes = Buffer.from(text);
      const at = rng.int(bytes.length);
      bytes[at] = rng.next() < 0.5 ? bytes[at]! ^ (1 << rng.int(8)) : rng.int(256);
      return { text: bytes.toString('utf8'), how: `byte flip at ${at}` };
    }
    case 1:
      lines.splice(line, 1);
      return { text: lines.join('\n'), how: `delete line ${line + 1}` };
    case 2:
      lines.splice(line, 0, lines[line]!);
      return { text: lines.join('\n'), how: `duplicate line ${line + 1}` };
    case 3: {
      const keyLines = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\s*[A-Za-z0-9_-]+\s*=/.test(l));
      if (keyLines.length === 0) return { text, how: 'no key' };
      const [l, i] = rng.pick(keyLines);
      const key = /^\s*([A-Za-z0-9_-]+)/.exec(l)![1]!;
      const at = rng.int(key.length);
      const renamed = rng.next() < 0.5 ? key.slice(0, at) + key.slice(at + 1) : key.slice(0, at) + String.fromCharCode(97 + rng.int(26)) + key.slice(at);
      lines[i] = l.replace(key, renamed || 'k');
      return { text: lines.join('\n'), how: `rename key ${key} → ${renamed} on line ${i + 1}` };
    }
    case 4: {
      const keyLines = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\s*[A-Za-z0-9_."-]+\s*=/.test(l));
      if (keyLines.length === 0) return { text, how: 'no key' };
      const [l, i] = rng.pick(keyLines);
      const value = rng.pick(VALUES);
      lines[i] = l.replace(/=.*$/, `= ${value}`);
      return { text: lines.join('\n'), how: `value on line ${i + 1} → ${value.slice(0, 20)}` };
    }
    case 5: {
      const at = rng.int(text.length + 1);
      return { text: text.slice(0, at), how: `truncate at ${at}` };
    }
    case 6: {
      const at = rng.int(text.length + 1);
      const junk = rng.pick(NASTY);
      return { text: text.slice(0, at) + junk + text.slice(at), how: `insert ${JSON.stringify(junk)} at ${at}` };
    }
    case 7: {
      const other = rng.int(lines.length);
      [lines[line], lines[other]] = [lines[other]!, lines[line]!];
      return { text: lines.join('\n'), how: `swap lines ${line + 1} and ${other + 1}` };
    }
    default: {
      const headers = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\s*\[/.test(l));
      if (headers.length === 0) return { text, how: 'no table' };
      const [l, i] = rng.pick(headers);
      lines[i] = rng.next() < 0.5 ? l.replace(/^\s*\[\[?/, '[').replace(/\]\]?\s*$/, ']') : l.replace(/^\s*\[+/, '[[').replace(/\]+\s*$/, ']]');
      return { text: lines.join('\n'), how: `table header on line ${i + 1} → ${lines[i]}` };
    }
  }
}

/** Checks what an iteration threw; returns the number of located errors, or throws with the reason. */
function checkFailure(error: unknown, context: string): number {
  const errors = error instanceof StrataErrors ? error.errors : error instanceof StrataError ? [error] : null;
  if (errors === null) {
    throw new Error(`not a StrataError: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n${context}`);
  }
  assert.ok(errors.length > 0, `an empty StrataErrors\n${context}`);
  for (const e of errors) {
    assert.ok(e instanceof StrataError, `StrataErrors holds a ${String(e)}\n${context}`);
    assert.ok(e.location !== undefined, `error without a location: ${e.message}\n${context}`);
    assert.ok(e.location.line >= 1 && e.location.col >= 1 && e.location.file !== '', `a usable location: ${JSON.stringify(e.location)}\n${context}`);
    assert.doesNotMatch(e.message, /internal error|undefined is not|Cannot read propert|is not a function/, `${e.message}\n${context}`);
  }
  return errors.length;
}

async function timed<T>(work: () => Promise<T>, context: string): Promise<T> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`iteration took over ${ITERATION_LIMIT_MS} ms\n${context}`)), ITERATION_LIMIT_MS))),
    ]);
  } finally {
    clearTimeout(timer);
    const ms = performance.now() - started;
    assert.ok(ms < ITERATION_LIMIT_MS, `iteration took ${ms.toFixed(0)} ms\n${context}`);
  }
}

const figures: string[] = [];
after(() => {
  for (const line of figures) console.log(`# ${line}`);
});

test(`config loader: ${CONFIG_ITERATIONS} mutated configs (seed ${SEED}) end in a model or located StrataErrors`, { timeout: 300_000 }, async () => {
  const work = await mkdtemp(join(tmpdir(), 'strata-rel-fuzz-config-'));
  try {
    // Bases: the bad-input base project (main file + an include) and the good multi-file config fixture.
    const bases: Array<{ dir: string; files: string[] }> = [];
    const badInput = join(work, 'bad-input');
    await cp(join(REPO, 'test/bad-input/_base'), badInput, { recursive: true });
    bases.push({ dir: badInput, files: ['toolkit.config.toml', 'overlays/hello.toml'] });
    const good = join(work, 'good');
    await cp(join(REPO, 'test/fixtures/config/good'), good, { recursive: true });
    bases.push({ dir: good, files: ['toolkit.config.toml', ...(await readdir(join(good, 'conf'))).filter((f) => f.endsWith('.toml')).map((f) => `conf/${f}`)] });
    const originals = new Map<string, string>();
    for (const base of bases) for (const file of base.files) originals.set(join(base.dir, file), await readFile(join(base.dir, file), 'utf8'));

    let models = 0;
    let failures = 0;
    let located = 0;
    const started = performance.now();
    for (let i = 0; i < CONFIG_ITERATIONS; i++) {
      const rng = rngFor(SEED + i);
      const base = rng.pick(bases);
      const file = join(base.dir, rng.next() < 0.7 ? base.files[0]! : rng.pick(base.files));
      let text = originals.get(file)!;
      const hows: string[] = [];
      for (let m = 1 + rng.int(3); m > 0; m--) {
        const mutated = mutateText(text, rng);
        text = mutated.text;
        hows.push(mutated.how);
      }
      await writeFile(file, text);
      const context = `iteration ${i} (STRATA_FUZZ_SEED=${SEED}), file ${file.slice(work.length + 1)}: ${hows.join('; ')}\n--- text ---\n${text.slice(0, 3000)}`;
      try {
        await timed(() => loadProject({ cwd: base.dir, displayBase: base.dir }), context);
        models++;
      } catch (error) {
        if (error instanceof Error && /^iteration took/.test(error.message)) throw error;
        located += checkFailure(error, context);
        failures++;
      } finally {
        await writeFile(file, originals.get(file)!);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    figures.push(`config fuzz: ${CONFIG_ITERATIONS} iterations (seed ${SEED}) in ${seconds.toFixed(1)} s: ${models} loaded, ${failures} rejected with ${located} located errors, 0 crashes`);
    assert.ok(failures > CONFIG_ITERATIONS / 10, 'the mutations really break configs');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- overlays

interface Case {
  component: string;
  overlays: Array<Record<string, unknown>>;
}

const OVERLAY_TYPES = [
  'spec-add-tag', 'spec-set-tag', 'spec-update-tag', 'spec-remove-tag', 'spec-insert-tag', 'spec-prepend-lines', 'spec-append-lines',
  'spec-search-replace', 'spec-remove-section', 'spec-remove-subpackage', 'patch-add', 'patch-remove', 'file-add', 'file-remove',
  'file-rename', 'file-search-replace', 'file-prepend-lines', 'not-a-type',
];

function mutateValue(value: unknown, rng: Rng, pool: unknown[]): unknown {
  switch (rng.int(8)) {
    case 0:
      return rng.pick(NASTY);
    case 1:
      return rng.int(5) - 1;
    case 2:
      return rng.next() < 0.5;
    case 3:
      return [rng.pick(NASTY), 'x'];
    case 4:
      return { nested: rng.pick(NASTY) };
    case 5:
      return rng.pick(pool);
    case 6:
      return typeof value === 'string' && value.length > 0 ? value.slice(0, rng.int(value.length)) + rng.pick(NASTY) + value.slice(rng.int(value.length)) : value;
    default:
      return typeof value === 'string' ? value.toUpperCase() : String(value);
  }
}

function mutateOverlays(overlays: Array<Record<string, unknown>>, rng: Rng, pool: unknown[], allKeys: string[]): { overlays: Array<Record<string, unknown>>; how: string[] } {
  const out = overlays.map((o) => ({ ...o }));
  const how: string[] = [];
  for (let m = 1 + rng.int(3); m > 0; m--) {
    if (out.length === 0) break;
    const index = rng.int(out.length);
    const target = out[index]!;
    const keys = Object.keys(target);
    switch (rng.int(6)) {
      case 0: {
        const key = rng.pick(keys);
        delete target[key];
        how.push(`overlay ${index + 1}: drop ${key}`);
        break;
      }
      case 1: {
        const key = rng.pick(keys);
        target[key] = mutateValue(target[key], rng, pool);
        how.push(`overlay ${index + 1}: ${key} = ${String(JSON.stringify(target[key])).slice(0, 40)}`);
        break;
      }
      case 2:
        target.type = rng.pick(OVERLAY_TYPES);
        how.push(`overlay ${index + 1}: type = ${String(target.type)}`);
        break;
      case 3: {
        const key = rng.pick(allKeys);
        target[key] = rng.pick(pool);
        how.push(`overlay ${index + 1}: add ${key}`);
        break;
      }
      case 4:
        out.splice(rng.int(out.length + 1), 0, { ...out[rng.int(out.length)]! });
        how.push('duplicate an overlay');
        break;
      default:
        out.splice(index, 1);
        how.push(`remove overlay ${index + 1}`);
    }
  }
  return { overlays: out, how };
}

test(`overlay engine: ${OVERLAY_ITERATIONS} mutated overlay lists on real spec fixtures (seed ${SEED}) end in rendered components or located StrataErrors`, { timeout: 300_000 }, async () => {
  const work = await mkdtemp(join(tmpdir(), 'strata-rel-fuzz-overlay-'));
  try {
    const casesDir = join(REPO, 'test/fixtures/overlays/cases');
    const cases: Case[] = [];
    for (const name of (await readdir(casesDir)).sort()) {
      const parsed = TOML.parse(await readFile(join(casesDir, name, 'case.toml'), 'utf8')) as unknown as Case;
      if (typeof parsed.component === 'string' && Array.isArray(parsed.overlays)) cases.push(parsed);
    }
    const components = [...new Set(cases.map((c) => c.component))].sort();
    await mkdir(join(work, 'specs'), { recursive: true });
    for (const component of components) await cp(join(REPO, 'test/fixtures/overlays/components', component), join(work, 'specs', component), { recursive: true });
    await writeFile(
      join(work, 'toolkit.config.toml'),
      `include = ["overlays/*.toml"]\n\n[distro]\nname = "fuzz"\nversion = "1"\narches = ["x86_64"]\nsource-date-epoch = 1767225600\n\n[[component-globs]]\npath = "specs/*/*.spec"\n`,
    );
    await mkdir(join(work, 'overlays'));
    const pool = cases.flatMap((c) => c.overlays.flatMap((o) => Object.values(o)));
    const allKeys = [...new Set(cases.flatMap((c) => c.overlays.flatMap((o) => Object.keys(o))))].sort();
    const overlayFile = join(work, 'overlays', 'fuzz.toml');

    let rendered = 0;
    let unwritable = 0;
    let failures = 0;
    let located = 0;
    const started = performance.now();
    for (let i = 0; i < OVERLAY_ITERATIONS; i++) {
      const rng = rngFor(SEED + 1_000_000 + i);
      const base = rng.pick(cases);
      const { overlays, how } = mutateOverlays(base.overlays, rng, pool, allKeys);
      let text: string;
      try {
        text = TOML.stringify({ components: { [base.component]: { overlays } } } as unknown as TOML.JsonMap);
      } catch {
        // A mutation TOML cannot express (the test's own limit, not strata's): not counted.
        unwritable++;
        continue;
      }
      await writeFile(overlayFile, text);
      const context = `iteration ${i} (STRATA_FUZZ_SEED=${SEED}), component ${base.component}: ${how.join('; ')}\n--- overlays ---\n${text.slice(0, 3000)}`;
      try {
        await timed(async () => {
          const model = await loadProject({ cwd: work, displayBase: work });
          checkOverlays(model);
          await renderComponents(model, [base.component]);
        }, context);
        rendered++;
      } catch (error) {
        if (error instanceof Error && /^iteration took/.test(error.message)) throw error;
        located += checkFailure(error, context);
        failures++;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    figures.push(`overlay fuzz: ${OVERLAY_ITERATIONS} iterations (seed ${SEED}) in ${seconds.toFixed(1)} s: ${rendered} rendered, ${failures} rejected with ${located} located errors, 0 crashes (${unwritable} mutations TOML cannot write skipped)`);
    assert.ok(unwritable < OVERLAY_ITERATIONS / 10, 'most mutations are tried');
    assert.ok(failures > OVERLAY_ITERATIONS / 10, 'the mutations really break overlays');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
