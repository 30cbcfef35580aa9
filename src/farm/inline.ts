/**
 * Small blobs by value. Most of a farm's blobs are a few KiB (spec files,
 * patches, small RPMs, logs); sending each through the object store costs a
 * look-up and an upload on one side and a look-up and a fetch on the other, four
 * round trips for a few hundred bytes. Blobs up to `INLINE_BLOB_BYTES` therefore
 * travel inside the job or result message, base64, within a per-message budget
 * that stays well under the server's max_payload. They are trusted exactly as
 * store blobs are: only after their bytes hash to their name.
 */
import { sha256Hex } from '../util/hash.js';
import { BadBlobError } from './object-store.js';
import type { InlineBlob } from './protocol.js';

/**
 * Largest blob sent by value. Files this small are also read and written with
 * synchronous calls on the farm's per-job path: for a few KiB in the page cache
 * a thread-pool round trip costs about four times the CPU of the system call
 * itself, and blocks nothing for longer than that call.
 */
export const INLINE_BLOB_BYTES = 16 * 1024;
/** Raw bytes of all the blobs one message carries by value. */
export const INLINE_BUDGET_BYTES = 256 * 1024;

export interface InlineLimits {
  /** Largest blob sent by value; 0 sends everything through the store. */
  blobBytes: number;
  budgetBytes: number;
}

/**
 * The limits for a connection whose server accepts messages up to
 * `maxPayload` bytes: base64 grows bytes by a third, and the rest of the
 * message (a bundle, a log) needs room too, so by-value blobs get a quarter.
 */
export function inlineLimits(maxPayload: number, blobBytes = INLINE_BLOB_BYTES): InlineLimits {
  const budgetBytes = Math.min(INLINE_BUDGET_BYTES, Math.floor(maxPayload / 4));
  return { blobBytes: Math.min(blobBytes, budgetBytes), budgetBytes };
}

export interface InlineCandidate {
  sha256: string;
  size: number;
}

/** Which of `blobs` go by value: the small ones, in the order given, while the budget lasts. */
export function chooseInline<T extends InlineCandidate>(blobs: readonly T[], limits: InlineLimits): { inline: T[]; stored: T[] } {
  const inline: T[] = [];
  const stored: T[] = [];
  let left = limits.budgetBytes;
  for (const blob of blobs) {
    if (blob.size <= limits.blobBytes && blob.size <= left) {
      inline.push(blob);
      left -= blob.size;
    } else {
      stored.push(blob);
    }
  }
  return { inline, stored };
}

export function packInline(sha256: string, bytes: Uint8Array): InlineBlob {
  return { sha256, data: Buffer.from(bytes).toString('base64') };
}

/** The bytes of a by-value blob, or BadBlobError when they are not what its name says. */
export function unpackInline(blob: InlineBlob, where: string): Buffer {
  const bytes = Buffer.from(blob.data, 'base64');
  const actual = sha256Hex(bytes);
  if (actual !== blob.sha256) throw new BadBlobError(blob.sha256, 'corrupt', `the copy inside the ${where} reads sha256:${actual.slice(0, 16)}…`);
  return bytes;
}
