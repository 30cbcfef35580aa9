import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, hashRecord, uuidFromHex, sha256Hex } from '../../src/util/hash.js';

test('canonicalJson sorts keys at every depth and drops undefined', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
});

test('hashRecord is independent of key order', () => {
  assert.equal(hashRecord({ x: 1, y: [1, 2] }), hashRecord({ y: [1, 2], x: 1 }));
  assert.notEqual(hashRecord({ x: 1 }), hashRecord({ x: 2 }));
});

test('uuidFromHex is deterministic and RFC 4122 shaped', () => {
  const uuid = uuidFromHex(sha256Hex('root'));
  assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(uuid, uuidFromHex(sha256Hex('root')));
});
