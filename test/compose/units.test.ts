import { test } from 'node:test';
import assert from 'node:assert/strict';
import { partitionUuids } from '../../src/compose/steps/make_disk.js';
import { veritySalt, verityUuid } from '../../src/compose/steps/make_verity.js';
import { keepLocale, removalPattern } from '../../src/compose/steps/minimise_tree.js';
import { parseDnfProblems } from '../../src/compose/steps/install_packages.js';
import { vhdFooter, vhdGeometry } from '../../src/compose/steps/convert_disk.js';
import { modinfoDepends, moduleName } from '../../src/compose/boot/modules.js';
import { classifyConsole } from '../../src/compose/boot/index.js';
import { elfMachine } from '../../src/compose/steps/check_elf_arch.js';
import { packagesFor } from '../../src/compose/image.js';
import { fixtureImage } from './fixture.js';

const ROOT_HASH = '0123456789abcdef0123456789abcdeffedcba9876543210fedcba9876543210';

test('partition UUIDs: first half of the root hash for data, second half for the hash tree', () => {
  const u = partitionUuids(ROOT_HASH);
  assert.equal(u.data, '01234567-89ab-4def-8123-456789abcdef');
  assert.equal(u.hash, 'fedcba98-7654-4210-bedc-ba9876543210');
  assert.notEqual(u.disk, u.data);
  assert.deepEqual(partitionUuids(ROOT_HASH), u);
  assert.notEqual(partitionUuids(ROOT_HASH.replace('0', '1')).data, u.data);
});

test('verity salt and UUID depend on the filesystem content only', () => {
  assert.match(veritySalt('a'.repeat(64)), /^[0-9a-f]{64}$/);
  assert.equal(veritySalt('a'.repeat(64)), veritySalt('a'.repeat(64)));
  assert.notEqual(veritySalt('a'.repeat(64)), veritySalt('b'.repeat(64)));
  assert.match(verityUuid('a'.repeat(64)), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('minimisation globs and locale rules', () => {
  assert.ok(removalPattern('usr/share/zoneinfo/**').test('usr/share/zoneinfo/Europe/Paris'));
  assert.ok(removalPattern('/usr/lib/*.a').test('usr/lib/libc.a'));
  assert.ok(!removalPattern('usr/lib/*.a').test('usr/lib/x/libc.a'));
  assert.ok(keepLocale('de_AT', ['de']) && keepLocale('C.UTF-8', ['C']) && keepLocale('sr@latin', ['sr']));
  assert.ok(!keepLocale('de', ['C']) && !keepLocale('dev', ['de']));
});

test('per-arch package changes', () => {
  const image = fixtureImage({ perArch: { aarch64: { addPackages: ['fx-arm'], removePackages: ['fx-init'] } } });
  assert.deepEqual(packagesFor(image, 'x86_64'), ['fx-filesystem', 'fx-init']);
  assert.deepEqual(packagesFor(image, 'aarch64'), ['fx-filesystem', 'fx-arm']);
});

test("dnf's solver report becomes dependency edges", () => {
  const p = parseDnfProblems(` Problem: package fx-broken-1.0-1.noarch requires fx-middle, but none of the providers can be installed
  - conflicting requests
  - nothing provides libnowhere.so.7()(64bit) needed by fx-middle-1.0-1.noarch
No match for argument: fx-nope`);
  assert.deepEqual(p.requires, [{ pkg: 'fx-broken-1.0-1.noarch', capability: 'fx-middle' }]);
  assert.deepEqual(p.missing, [{ capability: 'libnowhere.so.7()(64bit)', neededBy: 'fx-middle-1.0-1.noarch' }]);
  assert.deepEqual(p.noMatch, ['fx-nope']);
});

test('the fixed VHD footer is checksummed and deterministic', () => {
  const size = 64 * 1024 * 1024;
  const footer = vhdFooter(size, 1767225600, 'ab'.repeat(16));
  assert.equal(footer.toString('latin1', 0, 8), 'conectix');
  assert.equal(footer.readUInt32BE(60), 2);
  assert.equal(footer.readUInt32BE(24), 1767225600 - 946684800);
  const copy = Buffer.from(footer);
  copy.writeUInt32BE(0, 64);
  let sum = 0;
  for (const b of copy) sum += b;
  assert.equal(footer.readUInt32BE(64), ~sum >>> 0);
  assert.ok(vhdFooter(size, 1767225600, 'ab'.repeat(16)).equals(footer));
  // 64 MiB: 131072 sectors → 17 sectors/track, 8 heads (the spec's algorithm), 963 cylinders.
  assert.deepEqual(vhdGeometry(size), { cylinders: 963, heads: 8, sectors: 17 });
});

test('module dependencies come from .modinfo', () => {
  const ko = Buffer.concat([Buffer.from('\x7fELF...'), Buffer.from('\0license=GPL\0depends=dm-bufio,dm_mod\0vermagic=6.1\0')]);
  assert.deepEqual(modinfoDepends(ko), ['dm_bufio', 'dm_mod']);
  assert.deepEqual(modinfoDepends(Buffer.from('\0depends=\0')), []);
  assert.equal(moduleName('dm-verity.ko'), 'dm_verity');
});

test('the console decides the boot outcome', () => {
  assert.equal(classifyConsole('Linux version 6.1\nfx-init: config\nSTRATA-BOOT-OK\n', 'STRATA-BOOT-OK', false).outcome, 'marker');
  const verity = classifyConsole('[    4.1] device-mapper: verity: 254:0: data block 3 is corrupted\nSTRATA-INITRAMFS-FAILED: verity: root does not match\n', 'STRATA-BOOT-OK', false);
  assert.equal(verity.outcome, 'verity-error');
  assert.match(verity.evidence!, /data block 3/);
  assert.equal(classifyConsole('Kernel panic - not syncing: No working init found', 'STRATA-BOOT-OK', false).outcome, 'kernel-panic');
  assert.equal(classifyConsole('booting...', 'STRATA-BOOT-OK', true).outcome, 'timeout');
  // The marker must be a line of its own, not part of the echoed command line.
  assert.equal(classifyConsole('Command line: marker=STRATA-BOOT-OK', 'STRATA-BOOT-OK', false).outcome, 'no-marker');
});

test('ELF headers name their machine', () => {
  const header = (machine: number, bigEndian = false): Buffer => {
    const b = Buffer.alloc(20);
    b.writeUInt32BE(0x7f454c46, 0);
    b[5] = bigEndian ? 2 : 1;
    if (bigEndian) b.writeUInt16BE(machine, 18);
    else b.writeUInt16LE(machine, 18);
    return b;
  };
  assert.equal(elfMachine(header(183)), 183);
  assert.equal(elfMachine(header(62, true)), 62);
  assert.equal(elfMachine(Buffer.from('#!/bin/sh\necho not an ELF file')), null);
  assert.equal(elfMachine(Buffer.from([0x7f, 0x45, 0x4c])), null);
});
