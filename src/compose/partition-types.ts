/**
 * Discoverable Partitions Specification type GUIDs and systemd-repart's
 * partition names: with them, systemd-gpt-auto-generator (or any DPS-aware
 * initrd) finds the root, its hash tree and signature without an fstab.
 */
import type { Arch } from '../config/model.js';

export type PartitionRole = 'root' | 'root-verity' | 'root-verity-sig' | 'usr' | 'usr-verity' | 'usr-verity-sig';

const TYPES: Record<Arch, Record<PartitionRole, string>> = {
  x86_64: {
    root: '4f68bce3-e8cd-4db1-96e7-fbcaf984b709',
    'root-verity': '2c7357ed-ebd2-46d9-aec1-23d437ec2bf5',
    'root-verity-sig': '41092b05-9fc8-4523-994f-2def0408b176',
    usr: '8484680c-9521-48c6-9c11-b0720656f69e',
    'usr-verity': '77ff5f63-e7b6-4633-acf4-1565b864c0e6',
    'usr-verity-sig': 'e7bb33fb-06cf-4e81-8273-e543b413e2e2',
  },
  aarch64: {
    root: 'b921b045-1df0-41c3-af44-4c6f280d3fae',
    'root-verity': 'df3300ce-d69f-4c92-978c-9bfb0f38d820',
    'root-verity-sig': '6db69de6-29f4-4758-a7a5-962190f00ce3',
    usr: 'b0e01050-ee5f-4390-949a-9101b17104e9',
    'usr-verity': '6e11a4e7-fbca-4ded-b9e9-e1a512bb664e',
    'usr-verity-sig': 'c23ce4ff-44bd-4b00-b2d4-b41b3419e02a',
  },
};

/** The architecture suffix systemd uses in partition names (root-x86-64, usr-arm64-verity). */
const DPS_ARCH: Record<Arch, string> = { x86_64: 'x86-64', aarch64: 'arm64' };

export function partitionType(arch: Arch, role: PartitionRole): string {
  return TYPES[arch][role];
}

/** "root-x86-64-verity" for role root-verity on x86_64. */
export function partitionName(arch: Arch, role: PartitionRole): string {
  const [base, ...rest] = role.split('-');
  return [base, DPS_ARCH[arch], ...rest].join('-');
}
