/**
 * The GUID partition table, written byte by byte. systemd-repart here neither
 * knows erofs nor writes reproducible tables, and sfdisk derives nothing from
 * content, so strata lays the table out itself: every field is a pure function
 * of the partitions given, which is what makes the disk image reproducible.
 */
import { open } from 'node:fs/promises';
import { StrataError } from '../util/errors.js';

export const SECTOR = 512;
/** Partitions start on 1 MiB boundaries, as every partitioning tool does today. */
export const ALIGN = 1024 * 1024;
const ENTRY_COUNT = 128;
const ENTRY_SIZE = 128;
const ENTRIES_SECTORS = (ENTRY_COUNT * ENTRY_SIZE) / SECTOR;
const HEADER_SIZE = 92;

/** GPT attribute bit 60: the partition is read-only (systemd honours it when mounting). */
export const ATTR_READ_ONLY = 1n << 60n;

export interface PartitionSpec {
  /** GPT partition name (UTF-16LE, at most 36 characters). */
  name: string;
  typeGuid: string;
  uuid: string;
  /** Payload size in bytes; the partition is rounded up to ALIGN. */
  size: number;
  attributes: bigint;
}

export interface PlacedPartition extends PartitionSpec {
  number: number;
  /** Byte offset of the partition in the disk image. */
  offset: number;
  /** Size of the partition (aligned), ≥ the payload size. */
  partitionSize: number;
}

export interface GptLayout {
  diskGuid: string;
  totalBytes: number;
  partitions: PlacedPartition[];
  /** Protective MBR, primary header and entries: bytes 0 .. 34 sectors. */
  primary: Buffer;
  /** Backup entries then backup header: the last 33 sectors. */
  backup: Buffer;
  backupOffset: number;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3), the checksum GPT headers and entry arrays carry. */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** GPT's mixed-endian GUID encoding: the first three fields little-endian, the rest as written. */
export function guidToBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new StrataError(`not a GUID: ${guid}`, { kind: 'build' });
  const b = Buffer.from(hex, 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

export function bytesToGuid(b: Uint8Array): string {
  const r = (s: number, e: number): string => Buffer.from(b.subarray(s, e)).reverse().toString('hex');
  const h = Buffer.from(b.subarray(8, 16)).toString('hex');
  return `${r(0, 4)}-${r(4, 6)}-${r(6, 8)}-${h.slice(0, 4)}-${h.slice(4)}`;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

function entryArray(partitions: PlacedPartition[]): Buffer {
  const entries = Buffer.alloc(ENTRY_COUNT * ENTRY_SIZE);
  for (const [i, p] of partitions.entries()) {
    const e = entries.subarray(i * ENTRY_SIZE, (i + 1) * ENTRY_SIZE);
    guidToBytes(p.typeGuid).copy(e, 0);
    guidToBytes(p.uuid).copy(e, 16);
    e.writeBigUInt64LE(BigInt(p.offset / SECTOR), 32);
    e.writeBigUInt64LE(BigInt((p.offset + p.partitionSize) / SECTOR - 1), 40);
    e.writeBigUInt64LE(p.attributes, 48);
    e.write(p.name, 56, 72, 'utf16le');
  }
  return entries;
}

function header(layout: { diskGuid: string; totalSectors: number; entriesCrc: number }, primary: boolean): Buffer {
  const h = Buffer.alloc(SECTOR);
  const last = layout.totalSectors - 1;
  h.write('EFI PART', 0, 'latin1');
  h.writeUInt32LE(0x00010000, 8);
  h.writeUInt32LE(HEADER_SIZE, 12);
  h.writeBigUInt64LE(BigInt(primary ? 1 : last), 24);
  h.writeBigUInt64LE(BigInt(primary ? last : 1), 32);
  h.writeBigUInt64LE(BigInt(2 + ENTRIES_SECTORS), 40);
  h.writeBigUInt64LE(BigInt(last - 1 - ENTRIES_SECTORS), 48);
  guidToBytes(layout.diskGuid).copy(h, 56);
  h.writeBigUInt64LE(BigInt(primary ? 2 : last - ENTRIES_SECTORS), 72);
  h.writeUInt32LE(ENTRY_COUNT, 80);
  h.writeUInt32LE(ENTRY_SIZE, 84);
  h.writeUInt32LE(layout.entriesCrc, 88);
  h.writeUInt32LE(crc32(h.subarray(0, HEADER_SIZE)), 16);
  return h;
}

function protectiveMbr(totalSectors: number): Buffer {
  const mbr = Buffer.alloc(SECTOR);
  const p = 446;
  mbr.writeUInt8(0x00, p);
  mbr.writeUIntLE(0x000200, p + 1, 3);
  mbr.writeUInt8(0xee, p + 4);
  mbr.writeUIntLE(0xffffff, p + 5, 3);
  mbr.writeUInt32LE(1, p + 8);
  mbr.writeUInt32LE(Math.min(totalSectors - 1, 0xffffffff), p + 12);
  mbr.writeUInt16LE(0xaa55, 510);
  return mbr;
}

/** Places the partitions one after another from 1 MiB and builds both copies of the table. */
export function layoutGpt(diskGuid: string, specs: PartitionSpec[]): GptLayout {
  if (specs.length > ENTRY_COUNT) throw new StrataError(`a GPT holds at most ${ENTRY_COUNT} partitions`, { kind: 'build' });
  let offset = ALIGN;
  const partitions: PlacedPartition[] = specs.map((spec, i) => {
    if (spec.name.length > 36) throw new StrataError(`GPT partition name '${spec.name}' is longer than 36 characters`, { kind: 'build' });
    const partitionSize = alignUp(Math.max(spec.size, 1), ALIGN);
    const placed = { ...spec, number: i + 1, offset, partitionSize };
    offset += partitionSize;
    return placed;
  });
  // One aligned megabyte after the last partition holds the backup table.
  const totalBytes = offset + ALIGN;
  const totalSectors = totalBytes / SECTOR;
  const entries = entryArray(partitions);
  const entriesCrc = crc32(entries);
  const primary = Buffer.concat([protectiveMbr(totalSectors), header({ diskGuid, totalSectors, entriesCrc }, true), entries]);
  const backup = Buffer.concat([entries, header({ diskGuid, totalSectors, entriesCrc }, false)]);
  return { diskGuid, totalBytes, partitions, primary, backup, backupOffset: totalBytes - backup.length };
}

export interface GptEntry {
  number: number;
  typeGuid: string;
  uuid: string;
  name: string;
  offset: number;
  size: number;
  attributes: bigint;
}

/** Reads the primary table back, checking both CRCs: what `strata verify` trusts. */
export async function readGpt(diskPath: string): Promise<{ diskGuid: string; entries: GptEntry[] }> {
  const handle = await open(diskPath, 'r');
  try {
    const head = Buffer.alloc(SECTOR * (2 + ENTRIES_SECTORS));
    await handle.read(head, 0, head.length, 0);
    const h = head.subarray(SECTOR, SECTOR + HEADER_SIZE);
    if (h.toString('latin1', 0, 8) !== 'EFI PART') throw new StrataError(`${diskPath} has no GPT header`, { kind: 'input' });
    const copy = Buffer.from(h);
    const stored = copy.readUInt32LE(16);
    copy.writeUInt32LE(0, 16);
    if (crc32(copy) !== stored) throw new StrataError(`${diskPath}: GPT header checksum mismatch`, { kind: 'input' });
    const entriesLba = Number(h.readBigUInt64LE(72));
    const count = h.readUInt32LE(80);
    const size = h.readUInt32LE(84);
    const entries = Buffer.alloc(count * size);
    await handle.read(entries, 0, entries.length, entriesLba * SECTOR);
    if (crc32(entries) !== h.readUInt32LE(88)) throw new StrataError(`${diskPath}: GPT partition entries checksum mismatch`, { kind: 'input' });
    const out: GptEntry[] = [];
    for (let i = 0; i < count; i++) {
      const e = entries.subarray(i * size, (i + 1) * size);
      if (e.subarray(0, 16).every((b) => b === 0)) continue;
      const first = Number(e.readBigUInt64LE(32));
      const last = Number(e.readBigUInt64LE(40));
      out.push({
        number: i + 1,
        typeGuid: bytesToGuid(e.subarray(0, 16)),
        uuid: bytesToGuid(e.subarray(16, 32)),
        attributes: e.readBigUInt64LE(48),
        name: e.toString('utf16le', 56, 128).replace(/\0+$/, ''),
        offset: first * SECTOR,
        size: (last - first + 1) * SECTOR,
      });
    }
    return { diskGuid: bytesToGuid(h.subarray(56, 72)), entries: out };
  } finally {
    await handle.close();
  }
}
