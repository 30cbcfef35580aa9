/**
 * Blobs by SHA-256 in the farm's JetStream object store. A blob is stored under
 * `sha256-<hex>` and is only ever trusted after its bytes were hashed again by
 * whoever reads it: the store's own digest only proves the bytes are what the
 * last writer sent, not that the last writer sent what the name promises.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Objm, StorageType, type ObjectStore } from '@nats-io/obj';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { StrataError } from '../util/errors.js';
import { tempSibling } from '../util/atomic.js';
import { sha256Hex } from '../util/hash.js';
import { blobName, type FarmNames } from './subjects.js';
import { isTransient, retryTransient } from './transient.js';

/** A blob that is not in the store, or whose bytes do not hash to its name. */
export class BadBlobError extends StrataError {
  readonly sha256: string;
  readonly problem: 'missing' | 'corrupt';
  constructor(sha256: string, problem: 'missing' | 'corrupt', detail: string) {
    super(`blob sha256:${sha256.slice(0, 16)}… ${problem === 'missing' ? 'is not in the farm store' : 'does not match its digest'}${detail ? ` (${detail})` : ''}`, {
      kind: 'build',
      hint: problem === 'corrupt' ? 'the farm store holds bytes that are not what their name says: tampered or corrupt; it was not used' : undefined,
    });
    this.sha256 = sha256;
    this.problem = problem;
  }
}

export interface BlobStoreOptions {
  /** Replicas of the backing stream (3 on a three-node cluster). */
  replicas: number;
  /** Blobs older than this are dropped by the server (nanoseconds are not needed: milliseconds). */
  ttlMs: number;
}

export class BlobStore {
  private constructor(
    private readonly store: ObjectStore,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
  ) {}

  static async open(nc: NatsConnection, names: FarmNames, options: BlobStoreOptions, create = true): Promise<BlobStore> {
    const objm = new Objm(nc);
    const store = create
      ? await objm.create(names.blobBucket, {
          storage: StorageType.File,
          replicas: options.replicas,
          ttl: options.ttlMs * 1_000_000,
          description: `strata build farm blobs (${names.namespace})`,
        })
      : await objm.open(names.blobBucket);
    return new BlobStore(store, await jetstreamManager(nc), names.blobBucket);
  }

  /**
   * The bytes of a one-chunk object by a direct get of its chunk message (the
   * object store's documented layout: `$O.<bucket>.C.<nuid>` in stream
   * `OBJ_<bucket>`). The client's own get sets up a consumer per object, which
   * costs more than the transfer for the small bundles, logs and sources that
   * make up most of a farm's blobs.
   */
  private async singleChunk(sha256: string, nuid: string): Promise<Uint8Array> {
    const msg = await this.jsm.streams.getMessage(`OBJ_${this.bucket}`, { last_by_subj: `$O.${this.bucket}.C.${nuid}` });
    if (msg === null) throw new BadBlobError(sha256, 'missing', 'its chunk is gone');
    return msg.data;
  }

  /** True when the store holds an object under the blob's name with the expected size. */
  async has(sha256: string, size: number): Promise<boolean> {
    const info = await retryTransient(() => this.store.info(blobName(sha256)));
    return info !== null && !info.deleted && info.size === size;
  }

  /**
   * Uploads a local file under its digest. The file is hashed while it streams,
   * and a file that changed since its digest was taken is refused (and the
   * half-written object removed) rather than stored under a wrong name.
   */
  async putFile(sha256: string, path: string): Promise<void> {
    const hash = createHash('sha256');
    const source = createReadStream(path);
    source.on('data', (chunk) => hash.update(chunk as Buffer));
    await this.store.put({ name: blobName(sha256) }, Readable.toWeb(source) as ReadableStream<Uint8Array>);
    const actual = hash.digest('hex');
    if (actual !== sha256) {
      await this.store.delete(blobName(sha256));
      throw new StrataError(`${path} changed while it was uploaded (expected sha256 ${sha256}, read ${actual})`, { kind: 'build' });
    }
  }

  async putBytes(data: Uint8Array): Promise<string> {
    const sha256 = sha256Hex(data);
    await retryTransient(() => this.store.putBlob({ name: blobName(sha256) }, data));
    return sha256;
  }

  async delete(sha256: string): Promise<void> {
    await this.store.delete(blobName(sha256));
  }

  /**
   * Streams a blob into `dest` (atomically), hashing as it goes; a mismatch
   * leaves nothing behind. Tried again from the start while the store's stream
   * is between leaders (see transient.ts).
   */
  fetchToFile(sha256: string, dest: string): Promise<number> {
    return retryTransient(() => this.fetchOnce(sha256, dest));
  }

  private async fetchOnce(sha256: string, dest: string): Promise<number> {
    const name = blobName(sha256);
    const info = await this.store.info(name);
    if (info === null || info.deleted) throw new BadBlobError(sha256, 'missing', '');
    await mkdir(dirname(dest), { recursive: true });
    const tmp = tempSibling(dest);
    const hash = createHash('sha256');
    let size = 0;
    const handle = await open(tmp, 'w', 0o444);
    const take = async (data: Uint8Array): Promise<void> => {
      hash.update(data);
      size += data.length;
      await handle.write(data);
    };
    try {
      if (info.chunks === 1) {
        await take(await this.singleChunk(sha256, info.nuid));
      } else if (info.chunks > 1) {
        const result = await this.store.get(name);
        if (result === null) throw new BadBlobError(sha256, 'missing', '');
        const reader = result.data.getReader();
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) await take(chunk.value);
        await result.error.then((e) => {
          if (e) throw e;
        });
      }
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(tmp, { force: true });
      // A store that did not answer has not shown the bytes to be wrong.
      if (error instanceof BadBlobError || isTransient(error)) throw error;
      // The store's own check caught chunks that do not match the object's record.
      throw new BadBlobError(sha256, 'corrupt', error instanceof Error ? error.message.split('\n')[0]! : String(error));
    }
    const actual = hash.digest('hex');
    if (actual !== sha256) {
      await rm(tmp, { force: true });
      throw new BadBlobError(sha256, 'corrupt', `read sha256:${actual.slice(0, 16)}…`);
    }
    await rename(tmp, dest);
    return size;
  }

  /** Bytes held, for `farm status`. */
  async usage(): Promise<{ bytes: number }> {
    const status = await this.store.status();
    return { bytes: status.size };
  }
}

/**
 * Uploads a blob once even when many jobs name it at the same time: a second
 * concurrent put would replace the object while a worker may be reading the
 * first one. Finished uploads are not remembered: the store may lose or drop
 * an object later, so each job asks it again.
 */
export class BlobUploader {
  private readonly inFlight = new Map<string, Promise<boolean>>();
  constructor(private readonly store: BlobStore) {}

  /** Uploads the file unless the store already holds it; true when bytes were sent. */
  ensureFile(sha256: string, path: string): Promise<boolean> {
    let pending = this.inFlight.get(sha256);
    if (pending === undefined) {
      pending = retryTransient(async () => {
        const { size } = await stat(path);
        if (await this.store.has(sha256, size)) return false;
        await this.store.putFile(sha256, path);
        return true;
      });
      this.inFlight.set(sha256, pending);
      const settled = (): void => void this.inFlight.delete(sha256);
      pending.then(settled, settled);
    }
    return pending;
  }
}
