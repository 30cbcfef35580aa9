import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALIGN, ATTR_READ_ONLY, bytesToGuid, crc32, guidToBytes, layoutGpt, readGpt, SECTOR } from '../../src/compose/gpt.js';
import { partitionName, partitionType } from '../../src/compose/partition-types.js';
import { run } from '../../src/util/process.js';

test('crc32 matches the IEEE check value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(0)), 0);
});

test('GUIDs are stored mixed-endian, as the UEFI spec lays them out', () => {
  const bytes = guidToBytes('c12a7328-f81f-11d2-ba4b-00a0c93ec93b');
  assert.equal(bytes.toString('hex'), '28732ac11ff8d211ba4b00a0c93ec93b');
  assert.equal(bytesToGuid(bytes), 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b');
  assert.throws(() => guidToBytes('not-a-guid'));
});

test('layout places partitions on 1 MiB boundaries with both tables checksummed', () => {
  const layout = layoutGpt('11111111-2222-4333-8444-555555555555', [
    { name: 'root-x86-64', typeGuid: partitionType('x86_64', 'root'), uuid: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', size: 3 * ALIGN + 1, attributes: ATTR_READ_ONLY },
    { name: 'root-x86-64-verity', typeGuid: partitionType('x86_64', 'root-verity'), uuid: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', size: 4096, attributes: ATTR_READ_ONLY },
  ]);
  assert.deepEqual(layout.partitions.map((p) => [p.offset, p.partitionSize]), [[ALIGN, 4 * ALIGN], [5 * ALIGN, ALIGN]]);
  assert.equal(layout.totalBytes, 7 * ALIGN);
  const header = Buffer.from(layout.primary.subarray(SECTOR, SECTOR + 92));
  const stored = header.readUInt32LE(16);
  header.writeUInt32LE(0, 16);
  assert.equal(crc32(header), stored);
  assert.equal(layout.primary.readUInt16LE(510), 0xaa55);
  assert.equal(layout.backupOffset + layout.backup.length, layout.totalBytes);
  // Same inputs, same bytes: the table has nothing time- or host-dependent.
  const again = layoutGpt('11111111-2222-4333-8444-555555555555', layout.partitions);
  assert.ok(again.primary.equals(layout.primary) && again.backup.equals(layout.backup));
});

test('partition names follow systemd-repart', () => {
  assert.equal(partitionName('x86_64', 'root-verity'), 'root-x86-64-verity');
  assert.equal(partitionName('aarch64', 'usr-verity-sig'), 'usr-arm64-verity-sig');
  assert.equal(partitionType('aarch64', 'root'), 'b921b045-1df0-41c3-af44-4c6f280d3fae');
});

test('sfdisk and readGpt read back the table strata writes, and readGpt rejects a corrupted one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-gpt-'));
  try {
    const layout = layoutGpt('01234567-89ab-4def-8123-456789abcdef', [
      { name: 'usr-arm64', typeGuid: partitionType('aarch64', 'usr'), uuid: '0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f', size: 10, attributes: ATTR_READ_ONLY },
    ]);
    const path = join(dir, 'disk.raw');
    const handle = await open(path, 'w');
    await handle.truncate(layout.totalBytes);
    await handle.write(layout.primary, 0, layout.primary.length, 0);
    await handle.write(layout.backup, 0, layout.backup.length, layout.backupOffset);
    await handle.close();
    const sfdisk = JSON.parse((await run('sfdisk', ['--json', path])).stdout) as { partitiontable: { id: string; partitions: Array<{ type: string; uuid: string; name: string; start: number; attrs: string }> } };
    assert.equal(sfdisk.partitiontable.id.toLowerCase(), '01234567-89ab-4def-8123-456789abcdef');
    const [p] = sfdisk.partitiontable.partitions;
    assert.equal(p!.type.toLowerCase(), 'b0e01050-ee5f-4390-949a-9101b17104e9');
    assert.equal(p!.uuid.toLowerCase(), '0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f');
    assert.equal(p!.name, 'usr-arm64');
    assert.equal(p!.start, ALIGN / SECTOR);
    assert.equal(p!.attrs, 'GUID:60');
    // sfdisk --verify checks the backup table too.
    const verify = await run('sfdisk', ['--verify', path], { allowFailure: true });
    assert.equal(verify.exitCode, 0, verify.all);
    const table = await readGpt(path);
    assert.equal(table.entries[0]!.uuid, '0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f');
    const corrupt = await open(path, 'r+');
    await corrupt.write(Buffer.from([0xff]), 0, 1, 2 * SECTOR + 20);
    await corrupt.close();
    await assert.rejects(readGpt(path), /entries checksum mismatch/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
