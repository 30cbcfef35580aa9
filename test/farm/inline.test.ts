/** Which blobs travel by value, and how their bytes are checked. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseInline, inlineLimits, INLINE_BLOB_BYTES, INLINE_BUDGET_BYTES, packInline, unpackInline } from '../../src/farm/inline.js';
import { BadBlobError } from '../../src/farm/object-store.js';
import { sha256Hex } from '../../src/util/hash.js';

const blob = (name: string, size: number): { sha256: string; size: number; name: string } => ({ sha256: sha256Hex(name), size, name });

describe('blobs by value', () => {
  test('small blobs go inside the message while the budget lasts, in the order given', () => {
    const limits = { blobBytes: 100, budgetBytes: 250 };
    const { inline, stored } = chooseInline([blob('a', 100), blob('big', 101), blob('b', 100), blob('c', 60), blob('d', 40), blob('e', 0)], limits);
    assert.deepEqual(inline.map((b) => b.name), ['a', 'b', 'd', 'e']);
    assert.deepEqual(stored.map((b) => b.name), ['big', 'c']);
  });

  test('the limits shrink with the server\'s max_payload, and a limit of 0 sends everything to the store', () => {
    assert.deepEqual(inlineLimits(1024 * 1024), { blobBytes: INLINE_BLOB_BYTES, budgetBytes: INLINE_BUDGET_BYTES });
    assert.deepEqual(inlineLimits(32 * 1024), { blobBytes: 8 * 1024, budgetBytes: 8 * 1024 });
    const none = inlineLimits(1024 * 1024, 0);
    assert.deepEqual(chooseInline([blob('a', 1)], none).inline, []);
  });

  test('bytes are trusted only when they hash to the name they came under', () => {
    const bytes = Buffer.from('a small patch\n');
    const packed = packInline(sha256Hex(bytes), bytes);
    assert.deepEqual(unpackInline(packed, 'job message'), bytes);
    const forged = { ...packed, data: Buffer.from('another patch\n').toString('base64') };
    assert.throws(() => unpackInline(forged, 'job message'), (error: unknown) => error instanceof BadBlobError && error.problem === 'corrupt' && /inside the job message/.test(error.message));
  });
});
