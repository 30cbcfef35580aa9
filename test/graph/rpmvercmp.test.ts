import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareEvr, parseEvr, rangesOverlap, rpmvercmp } from '../../src/graph/rpmvercmp.js';
import { run } from '../../src/util/process.js';

// rpm's own test vectors (tests/rpmvercmp.at), including tilde and caret.
const VERSIONS: Array<[string, string, -1 | 0 | 1]> = [
  ['1.0', '1.0', 0], ['1.0', '2.0', -1], ['2.0', '1.0', 1], ['2.0.1', '2.0.1', 0], ['2.0', '2.0.1', -1],
  ['2.0.1a', '2.0.1', 1], ['5.5p1', '5.5p2', -1], ['5.5p10', '5.5p1', 1], ['10xyz', '10.1xyz', -1],
  ['xyz10', 'xyz10.1', -1], ['xyz.4', '8', -1], ['2', 'xyz.4', 1], ['5.6p1', '6.5p1', -1], ['6.0.rc1', '6.0', 1],
  ['10b2', '10a1', 1], ['1.0a', '1.0aa', -1], ['10.0001', '10.1', 0], ['10.0039', '10.0001', 1],
  ['4.999.9', '5.0', -1], ['20101122', '20101121', 1], ['2.0', '2_0', 0], ['a+', 'a_', 0], ['+_', '_+', 0],
  ['+', '_', 0], ['1.0~rc1', '1.0', -1], ['1.0~rc1', '1.0~rc2', -1], ['1.0~rc1~git123', '1.0~rc1', -1],
  ['1.0^', '1.0', 1], ['1.0^git1', '1.0', 1], ['1.0^git1', '1.0^git2', -1], ['1.0^git1', '1.01', -1],
  ['1.0^20160101', '1.0.1', -1], ['1.0^20160102', '1.0^20160101^git1', 1], ['1.0~rc1^git1', '1.0~rc1', 1],
  ['1.0^git1~pre', '1.0^git1', -1], ['1.0^git1~pre', '1.0^git1~pre', 0], ['1.0', '1.0~rc1', 1],
];

test('rpmvercmp matches rpm test vectors', () => {
  for (const [a, b, expected] of VERSIONS) {
    assert.equal(rpmvercmp(a, b), expected, `${a} vs ${b}`);
    assert.equal(rpmvercmp(b, a), -expected || 0, `${b} vs ${a}`);
  }
});

test('compareEvr agrees with the host rpm (rpm.vercmp) on every pair', async () => {
  const evrs = ['1.0-1', '1.0-2', '1:0.9-1', '0:1.0-1', '2.0~beta-1', '2.0-0.1', '2.0^git3-1', '1.0', '10-1', '1.0.0-1', '1.0-1.fc40', '1.0-1.el9'];
  const pairs = evrs.flatMap((a) => evrs.map((b) => [a, b] as const));
  const lua = `%{lua: ${pairs.map(([a, b]) => `print(rpm.vercmp("${a}", "${b}"), " ")`).join(' ')}}`;
  const expected = (await run('rpm', ['--eval', lua])).stdout.trim().split(/\s+/).map(Number);
  pairs.forEach(([a, b], i) => assert.equal(compareEvr(parseEvr(a), parseEvr(b)), expected[i], `${a} vs ${b}`));
});

test('parseEvr splits epoch, version and release like rpm', () => {
  assert.deepEqual(parseEvr('2:1.0-3.fc40'), { epoch: '2', version: '1.0', release: '3.fc40' });
  assert.deepEqual(parseEvr('1.0'), { epoch: null, version: '1.0', release: null });
  assert.deepEqual(parseEvr('1.0-rc-1'), { epoch: null, version: '1.0-rc', release: '1' });
  assert.deepEqual(parseEvr(':1.0-1'), { epoch: '0', version: '1.0', release: '1' });
});

// [provide flag, provide evr, requirement flag, requirement evr, satisfied]
const RANGES: Array<[string | null, string | null, string | null, string | null, boolean]> = [
  ['=', '2.4-1', '>=', '2.0', true],
  ['=', '1.2-1', '>=', '2.0', false],
  ['=', '2.0-1', '<', '2.0', false],
  ['=', '2.0~rc1-1', '>=', '2.0', false],
  ['=', '2.0^git1-1', '>', '2.0', true],
  ['=', '1:1.0-1', '>=', '2.0', true],
  ['=', '1.0-1', '>=', '1:0.5', false],
  ['=', '2.0-1', '=', '2.0', true],
  ['=', '2.0', '=', '2.0-5', true],
  ['=', '2.0-1', '=', '2.0-5', false],
  [null, null, '>=', '99', true],
  ['=', '1.0-1', null, null, true],
  ['>=', '3', '<', '4', true],
  ['<', '2', '>', '3', false],
];

test('rangesOverlap follows rpmdsCompare', () => {
  for (const [pf, pe, rf, re, expected] of RANGES) {
    assert.equal(rangesOverlap(pf as never, pe, rf as never, re), expected, `${pf} ${pe} vs ${rf} ${re}`);
  }
});
