/**
 * convert_disk: the extra disk formats the image asks for. A fixed VHD (what
 * Azure takes) is the raw disk plus a 512-byte footer, written here so its
 * timestamp is SOURCE_DATE_EPOCH and its unique id derives from the disk's
 * content; qcow2 comes from qemu-img, whose output carries no time or id.
 */
import { copyFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File, sha256Hex } from '../../util/hash.js';
import { run } from '../../util/process.js';
import { toolEnv, type ComposeStep } from '../context.js';

/** Seconds between the Unix epoch and the VHD epoch (2000-01-01T00:00:00Z). */
const VHD_EPOCH = 946684800;

/** CHS geometry as the VHD specification's appendix computes it. */
export function vhdGeometry(size: number): { cylinders: number; heads: number; sectors: number } {
  let total = Math.min(Math.floor(size / 512), 65535 * 16 * 255);
  let sectors: number;
  let heads: number;
  let cylTimesHeads: number;
  if (total >= 65535 * 16 * 63) {
    sectors = 255;
    heads = 16;
    cylTimesHeads = Math.floor(total / sectors);
  } else {
    sectors = 17;
    cylTimesHeads = Math.floor(total / sectors);
    heads = Math.max(4, Math.floor((cylTimesHeads + 1023) / 1024));
    if (cylTimesHeads >= heads * 1024 || heads > 16) {
      sectors = 31;
      heads = 16;
      cylTimesHeads = Math.floor(total / sectors);
    }
    if (cylTimesHeads >= heads * 1024) {
      sectors = 63;
      heads = 16;
      cylTimesHeads = Math.floor(total / sectors);
    }
  }
  total = cylTimesHeads;
  return { cylinders: Math.floor(total / heads), heads, sectors };
}

/** The footer of a fixed-size VHD for a raw disk of `size` bytes. */
export function vhdFooter(size: number, sourceDateEpoch: number, uniqueIdHex: string): Buffer {
  const f = Buffer.alloc(512);
  f.write('conectix', 0, 'latin1');
  f.writeUInt32BE(0x00000002, 8); // features: reserved bit, always set
  f.writeUInt32BE(0x00010000, 12); // format version 1.0
  f.writeBigUInt64BE(0xffffffffffffffffn, 16); // data offset: none for fixed disks
  f.writeUInt32BE(Math.max(0, sourceDateEpoch - VHD_EPOCH), 24);
  f.write('strt', 28, 'latin1');
  f.writeUInt32BE(0x00010000, 32);
  f.write('Wi2k', 36, 'latin1');
  f.writeBigUInt64BE(BigInt(size), 40);
  f.writeBigUInt64BE(BigInt(size), 48);
  const g = vhdGeometry(size);
  f.writeUInt16BE(g.cylinders, 56);
  f.writeUInt8(g.heads, 58);
  f.writeUInt8(g.sectors, 59);
  f.writeUInt32BE(2, 60); // disk type: fixed
  Buffer.from(uniqueIdHex.slice(0, 32), 'hex').copy(f, 68);
  let sum = 0;
  for (const byte of f) sum += byte;
  f.writeUInt32BE(~sum >>> 0, 64);
  return f;
}

export const convertDisk: ComposeStep = {
  name: 'convert_disk',
  applies: (context) => context.disk !== undefined && context.image.formats.some((f) => f !== 'raw'),
  async run(context) {
    const disk = context.disk!;
    const raw = join(context.outDir, disk.file);
    const conversions: string[] = [];
    if (context.image.formats.includes('vhd')) {
      const vhd = join(context.outDir, 'disk.vhd');
      await copyFile(raw, vhd);
      await appendFile(vhd, vhdFooter(disk.size, context.model.distro.sourceDateEpoch, sha256Hex(`strata-vhd\0${await sha256File(raw)}`)));
      conversions.push('disk.vhd');
    }
    if (context.image.formats.includes('qcow2')) {
      await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, join(context.outDir, 'disk.qcow2')], { env: toolEnv(context), signal: context.signal });
      conversions.push('disk.qcow2');
    }
    context.log.info(`  converted the disk to ${conversions.join(', ')}`);
    return { ...context, conversions };
  },
};
