import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/config/', import.meta.url));

function strata(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('strata config on a broken project: exit 1, FILE:LINE:COL lines on stderr, nothing on stdout', () => {
  const dir = join(FIXTURES, 'bad/unknown-key-nested');
  const expected = readFileSync(join(dir, 'expected.txt'), 'utf8').trimEnd().split('\n');
  const { status, stdout, stderr } = strata(['-C', dir, 'config'], dir);
  assert.equal(status, 1, stderr);
  assert.equal(stdout, '');
  const lines = stderr.split('\n').filter((line) => line.startsWith('error: '));
  assert.deepEqual(lines, expected.map((line) => `error: ${line}`));
});

test('with --json, the errors are one JSON document on stdout, each with its file, line and column', () => {
  const dir = join(FIXTURES, 'bad/wrong-type');
  const { status, stdout, stderr } = strata(['--config', join(dir, 'toolkit.config.toml'), 'config', '--json'], dir);
  assert.equal(status, 1, stderr);
  const report = JSON.parse(stdout);
  assert.equal(report.ok, false);
  assert.deepEqual(
    report.errors.map((e: { file: string; line: number; col: number; message: string }) => `${e.file}:${e.line}:${e.col}: ${e.message}`),
    readFileSync(join(dir, 'expected.txt'), 'utf8').trimEnd().split('\n'),
  );
});

test('file names are relative to the current folder', () => {
  const { status, stderr } = strata(['-C', 'bad/duplicate-component', 'config'], FIXTURES);
  assert.equal(status, 1, stderr);
  assert.match(stderr, /^error: bad\/duplicate-component\/components\/b\.toml:2:1: component 'hello' is defined twice: here and at bad\/duplicate-component\/components\/a\.toml:2:1$/m);
});

test('strata config --json prints the merged model, where each component comes from and its fingerprint', () => {
  const { status, stdout, stderr } = strata(['config', '--json'], join(FIXTURES, 'cli'));
  assert.equal(status, 0, stderr);
  const model = JSON.parse(stdout);
  assert.equal(model.distro.name, 'cli-fixture');
  assert.deepEqual(Object.keys(model.components), ['hello', 'world']);
  assert.deepEqual(model.components.world.definedAt, { file: 'toolkit.config.toml', line: 10, col: 8 });
  assert.deepEqual(model.components.hello.refinedAt, { file: 'toolkit.config.toml', line: 12, col: 14 });
  assert.equal(model.components.hello.overlays[0].type, 'spec-add-tag');
  assert.match(model.fingerprint, /^[0-9a-f]{64}$/);
  for (const component of Object.values<{ fingerprint: unknown }>(model.components)) assert.match(String(component.fingerprint), /^[0-9a-f]{64}$/);
  assert.notEqual(model.components.hello.fingerprint, model.components.world.fingerprint);
});

test('strata config prints a readable summary', () => {
  const { status, stdout, stderr } = strata(['config'], join(FIXTURES, 'cli'));
  assert.equal(status, 0, stderr);
  assert.match(stdout, /^distro +cli-fixture 1 \(dist \.cf1\)$/m);
  assert.match(stdout, /^components \(2\)$/m);
  assert.match(stdout, /^ +hello +specs\/hello\/hello\.spec +1 +all +glob toolkit\.config\.toml:10:8, refined at toolkit\.config\.toml:12:14 +[0-9a-f]{16}$/m);
  assert.match(stdout, /^ +world +specs\/world\/world\.spec +0 +all +glob toolkit\.config\.toml:10:8 +[0-9a-f]{16}$/m);
  assert.match(stdout, /^  base: erofs, verity, layout root, formats raw, unsigned$/m);
});

test('strata schema prints the JSON Schema', () => {
  const { status, stdout, stderr } = strata(['schema'], FIXTURES);
  assert.equal(status, 0, stderr);
  const schema = JSON.parse(stdout);
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.ok(schema.properties.distro);
  const overlay = schema.properties.components.additionalProperties.properties.overlays.items;
  const types = overlay.oneOf.map((variant: { properties: { type: { const: string } } }) => variant.properties.type.const);
  assert.equal(types.length, 17);
  assert.ok(types.includes('spec-search-replace') && types.includes('file-rename'));
  const setTag = overlay.oneOf.find((variant: { properties: { type: { const: string } } }) => variant.properties.type.const === 'spec-set-tag');
  assert.deepEqual(setTag.required, ['type', 'tag', 'value']);
  assert.ok(setTag.properties.description, 'overlay metadata belongs to every type');
  assert.equal(setTag.additionalProperties, false);
});
