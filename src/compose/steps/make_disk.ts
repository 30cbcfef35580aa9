/**
 * make_disk: a GPT disk image holding the filesystem, its hash tree and the
 * optional signature, with Discoverable Partitions type GUIDs for the arch.
 * Partition UUIDs come from the root hash the way systemd-repart derives them
 * (first half → data partition, second half → hash partition), so the root
 * hash alone identifies the partitions; the disk GUID derives from it too.
 */
import { lstat, open } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex, uuidFromHex } from '../../util/hash.js';
import { ATTR_READ_ONLY, layoutGpt, type PartitionSpec } from '../gpt.js';
import { partitionName, partitionType, type PartitionRole } from '../partition-types.js';
import type { ComposeContext, ComposeStep, DiskPartition } from '../context.js';

const COPY_CHUNK = 4 * 1024 * 1024;

/** Copies a whole file into `target` at byte `offset`. */
export async function copyInto(target: string, offset: number, source: string): Promise<void> {
  const input = await open(source, 'r');
  const output = await open(target, 'r+');
  try {
    const buffer = Buffer.alloc(COPY_CHUNK);
    let position = 0;
    for (;;) {
      const { bytesRead } = await input.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      await output.write(buffer, 0, bytesRead, offset + position);
      position += bytesRead;
    }
  } finally {
    await input.close();
    await output.close();
  }
}

/** The UUIDs of the data and hash partitions for a root hash (or, without verity, the filesystem hash). */
export function partitionUuids(identity: string): { data: string; hash: string; signature: string; disk: string } {
  return {
    data: uuidFromHex(identity.slice(0, 32)),
    hash: uuidFromHex(identity.slice(32, 64)),
    signature: uuidFromHex(sha256Hex(`strata-verity-sig\0${identity}`)),
    disk: uuidFromHex(sha256Hex(`strata-disk\0${identity}`)),
  };
}

interface Planned {
  role: PartitionRole;
  payload: string;
}

function plannedPartitions(context: ComposeContext): Planned[] {
  const role = context.image.layout;
  const planned: Planned[] = [{ role, payload: context.filesystem!.file }];
  if (context.verity) planned.push({ role: `${role}-verity`, payload: context.verity.file });
  if (context.signature) planned.push({ role: `${role}-verity-sig`, payload: context.signature.file });
  return planned;
}

export const makeDisk: ComposeStep = {
  name: 'make_disk',
  applies: () => true,
  async run(context) {
    const identity = context.verity?.rootHash ?? context.filesystem!.sha256;
    const uuids = partitionUuids(identity);
    const uuidFor = (role: PartitionRole): string => (role.endsWith('-verity-sig') ? uuids.signature : role.endsWith('-verity') ? uuids.hash : uuids.data);
    const planned = plannedPartitions(context);
    const specs: PartitionSpec[] = [];
    for (const p of planned) {
      specs.push({
        name: partitionName(context.arch, p.role),
        typeGuid: partitionType(context.arch, p.role),
        uuid: uuidFor(p.role),
        size: (await lstat(join(context.outDir, p.payload))).size,
        attributes: ATTR_READ_ONLY,
      });
    }
    const layout = layoutGpt(uuids.disk, specs);
    const file = 'disk.raw';
    const path = join(context.outDir, file);
    const handle = await open(path, 'w');
    try {
      await handle.truncate(layout.totalBytes);
      await handle.write(layout.primary, 0, layout.primary.length, 0);
      await handle.write(layout.backup, 0, layout.backup.length, layout.backupOffset);
    } finally {
      await handle.close();
    }
    const partitions: DiskPartition[] = [];
    for (const [i, placed] of layout.partitions.entries()) {
      await copyInto(path, placed.offset, join(context.outDir, planned[i]!.payload));
      partitions.push({
        number: placed.number,
        role: planned[i]!.role,
        name: placed.name,
        typeGuid: placed.typeGuid,
        uuid: placed.uuid,
        offset: placed.offset,
        size: placed.partitionSize,
        payload: planned[i]!.payload,
        payloadSize: placed.size,
      });
    }
    context.log.info(`  GPT disk: ${partitions.map((p) => p.name).join(', ')} (${layout.totalBytes} bytes)`);
    return { ...context, disk: { file, guid: uuids.disk, size: layout.totalBytes, partitions } };
  },
};
