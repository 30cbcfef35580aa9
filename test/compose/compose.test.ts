/**
 * The composer end to end with the real tools (dnf, rpm, mkfs.erofs,
 * mksquashfs, veritysetup, openssl, qemu-img) on RPMs built from
 * test/fixtures/compose/specs.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, lstat, mkdir, mkdtemp, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeImage, verifyImage } from '../../src/compose/index.js';
import { compareComposes } from '../../src/compose/repro.js';
import { readGpt } from '../../src/compose/gpt.js';
import { partitionType } from '../../src/compose/partition-types.js';
import { StrataError } from '../../src/util/errors.js';
import { sha256File, sha256Hex } from '../../src/util/hash.js';
import { walkTree } from '../../src/util/paths.js';
import { run } from '../../src/util/process.js';
import { EPOCH, fixtureImage, fixtureModel, fixtureRepo, mislabelledAarch64Repo } from './fixture.js';
import { extractFilesystem, flipByte, log } from './helpers.js';

let repo: string;
before(async () => {
  repo = await fixtureRepo('x86_64');
});

const project = (): Promise<string> => mkdtemp(join(tmpdir(), 'strata-compose-test-'));

test('compose installs the Requires closure, minimises the tree and writes verifiable artifacts', async () => {
  const model = fixtureModel(await project());
  const result = await composeImage(model, 'fx', 'x86_64', { log, repo });
  assert.deepEqual((await readdir(result.outDir)).sort(), ['cmdline', 'disk.raw', 'disk.raw.intoto.json', 'manifest.json', 'root.erofs', 'root.erofs.intoto.json', 'root.roothash', 'root.verity', 'sbom.spdx.json']);
  const m = result.manifest;
  // fx-config is in no package list: only fx-init's Requires brings it in.
  assert.deepEqual(m.packages.map((p) => p.nevra), ['fx-config-2.1-3.noarch', 'fx-filesystem-1.0-1.noarch', 'fx-init-1.0-1.x86_64']);
  for (const p of m.packages) assert.equal(p.rpmSha256, await sha256File(join(repo, p.rpmFile)));
  assert.equal(m.packages.find((p) => p.name === 'fx-init')!.component, 'fx-init');
  assert.ok(m.packages.find((p) => p.name === 'fx-init')!.imageBytes > 100_000, 'the static init is counted in the size report');
  assert.equal(m.packages.find((p) => p.name === 'fx-filesystem')!.imageBytes < m.packages.find((p) => p.name === 'fx-filesystem')!.installedSize, true);
  assert.equal(m.verity!.rootHash, (await readFile(join(result.outDir, 'root.roothash'), 'utf8')).trim());
  assert.equal(m.artifacts['disk.raw']!.sha256, await sha256File(join(result.outDir, 'disk.raw')));
  assert.equal(m.configFingerprint, model.fingerprint);
  const cmdline = (await readFile(join(result.outDir, 'cmdline'), 'utf8')).trim();
  assert.match(cmdline, new RegExp(`^roothash=${m.verity!.rootHash} systemd.verity_root_data=PARTUUID=\\S+ systemd.verity_root_hash=PARTUUID=\\S+ root=/dev/mapper/root rootfstype=erofs ro init=/usr/sbin/fx-init$`));

  const tree = await extractFilesystem(join(result.outDir, 'root.erofs'), 'erofs');
  const paths = (await walkTree(tree)).map((e) => e.path);
  for (const gone of ['usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale/de', 'var/log/fx.log', 'var/cache/fx']) assert.ok(!paths.includes(gone), `${gone} removed`);
  assert.ok(paths.includes('usr/share/locale/C/LC_MESSAGES/fx.mo'), 'the kept locale stays');
  assert.ok(paths.includes('usr/lib/sysimage/rpm/rpmdb.sqlite'), 'rpm database kept for auditing');
  assert.ok(!paths.some((p) => /rpmdb\.sqlite-(shm|wal)$|\.rpm\.lock$/.test(p)), 'no rpm runtime files');
  assert.ok(!paths.some((p) => p.startsWith('var/lib/dnf') || p.startsWith('var/cache/dnf')), 'no dnf leftovers');
  assert.equal((await lstat(join(tree, 'etc/machine-id'))).size, 0);
  assert.equal((await lstat(join(tree, 'tmp'))).mode & 0o7777, 0o1777, 'modes as packaged');
  assert.equal((await lstat(join(tree, 'usr/sbin/fx-init'))).mode & 0o7777, 0o755);
  assert.equal(await readlink(join(tree, 'sbin')), 'usr/sbin');
  assert.equal((await lstat(join(tree, 'usr/sbin/fx-init'))).mtimeMs / 1000, EPOCH, 'every timestamp is SOURCE_DATE_EPOCH');
  // rpm stamps the packages of one transaction SOURCE_DATE_EPOCH, +1, +2 … in install order: no clock reading.
  const rpmQa = await run('rpm', ['--root', tree, '--dbpath', '/usr/lib/sysimage/rpm', '-qa', '--qf', '%{INSTALLTIME}\n']);
  assert.deepEqual(rpmQa.stdout.trim().split('\n').map(Number).sort(), [EPOCH, EPOCH + 1, EPOCH + 2], 'the image rpmdb is queryable and carries no install-time clock');

  // No host name anywhere: not in the packages' headers, the tree's files nor any artifact. A short host
  // name ("vm") occurs by chance in any binary, so the byte scan needs a distinctive one.
  const buildHosts = await run('rpm', ['--root', tree, '--dbpath', '/usr/lib/sysimage/rpm', '-qa', '--qf', '%{BUILDHOST}\n']);
  assert.ok(!buildHosts.stdout.split('\n').includes(hostname()));
  if (hostname().length >= 6) {
    const host = Buffer.from(hostname());
    for (const e of await walkTree(tree)) if (e.type === 'file') assert.ok(!(await readFile(e.absPath)).includes(host), `${e.path} names the build host`);
    for (const name of await readdir(result.outDir)) assert.ok(!(await readFile(join(result.outDir, name))).includes(host), `${name} names the build host`);
  }

  const report = await verifyImage(model, 'fx', 'x86_64', { log });
  assert.ok(report.ok, JSON.stringify(report.checks.filter((c) => !c.ok)));
});

test('two composes from clean state in different folders give identical artifacts', async () => {
  const model = fixtureModel(await project());
  const report = await compareComposes('fx', 'x86_64', (outRoot) => composeImage(model, 'fx', 'x86_64', { log, repo, outRoot }), log);
  assert.ok(report.identical, JSON.stringify(report.differences));
  assert.deepEqual(Object.keys(report.artifacts).sort(), ['cmdline', 'disk.raw', 'disk.raw.intoto.json', 'manifest.json', 'root.erofs', 'root.erofs.intoto.json', 'root.roothash', 'root.verity', 'sbom.spdx.json']);
});

test('verify pinpoints a flipped byte in the disk, the filesystem image and the hash tree', async () => {
  const model = fixtureModel(await project());
  const { outDir, manifest } = await composeImage(model, 'fx', 'x86_64', { log, repo });
  const data = manifest.disk!.partitions[0]!;
  await flipByte(join(outDir, 'disk.raw'), data.offset + 2 * 4096 + 100);
  let report = await verifyImage(model, 'fx', 'x86_64', { log });
  assert.equal(report.ok, false);
  const failed = Object.fromEntries(report.checks.filter((c) => !c.ok).map((c) => [c.check, c.detail]));
  assert.deepEqual(Object.keys(failed).sort(), ['artifact disk.raw', 'disk.raw partition 1', 'disk.raw verity', 'provenance disk.raw.intoto.json', 'provenance root.erofs.intoto.json']);
  assert.match(failed['disk.raw verity']!, /data block 2 \(bytes 8192\.\.12287\) does not match the hash tree/);
  assert.match(failed['disk.raw partition 1']!, /root-x86-64.*block 2/);
  await flipByte(join(outDir, 'disk.raw'), data.offset + 2 * 4096 + 100);

  await flipByte(join(outDir, 'root.erofs'), 5 * 4096 + 7);
  report = await verifyImage(model, 'fx', 'x86_64', { log });
  assert.match(report.checks.find((c) => c.check === 'root.erofs verity')!.detail, /data block 5 /);
  await flipByte(join(outDir, 'root.erofs'), 5 * 4096 + 7);

  await flipByte(join(outDir, 'root.verity'), 4096 + 3);
  report = await verifyImage(model, 'fx', 'x86_64', { log });
  const tree = report.checks.find((c) => c.check === 'root.erofs verity')!;
  assert.equal(tree.ok, false);
  await flipByte(join(outDir, 'root.verity'), 4096 + 3);
  assert.ok((await verifyImage(model, 'fx', 'x86_64', { log })).ok, 'restored image verifies again');
});

test('a missing runtime dependency is an error showing the chain that needs it', async () => {
  const model = fixtureModel(await project(), [fixtureImage({ packages: ['fx-filesystem', 'fx-broken'] })]);
  await assert.rejects(composeImage(model, 'fx', 'x86_64', { log, repo }), (error: unknown) => {
    assert.ok(error instanceof StrataError);
    assert.equal(error.kind, 'input');
    assert.match(error.message, /nothing provides libnowhere\.so\.7\(\)\(64bit\) needed by fx-middle-1\.0-1\.noarch/);
    assert.deepEqual(error.details.slice(0, 4), ['dependency chain:', 'fx-broken-1.0-1.noarch requires fx-middle', '  fx-middle-1.0-1.noarch', '    requires libnowhere.so.7()(64bit) (nothing provides it)']);
    return true;
  });
});

test('an unknown package is named, with a suggestion', async () => {
  const model = fixtureModel(await project(), [fixtureImage({ packages: ['fx-filesystem', 'fx-inti'] })]);
  await assert.rejects(composeImage(model, 'fx', 'x86_64', { log, repo }), (error: unknown) => {
    assert.ok(error instanceof StrataError);
    assert.match(error.message, /no repository has 'fx-inti'/);
    assert.deepEqual(error.details, ["fx-inti (did you mean 'fx-init'?)"]);
    return true;
  });
});

test('squashfs with a signed root hash, VHD and qcow2 is reproducible and verifiable', async () => {
  const root = await project();
  const key = join(root, 'signing.key');
  const cert = join(root, 'signing.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', '/CN=strata test signing']);
  const model = fixtureModel(root, [fixtureImage({ filesystem: 'squashfs', formats: ['raw', 'vhd', 'qcow2'], signing: { key, certificate: cert } })]);
  const report = await compareComposes('fx', 'x86_64', (outRoot) => composeImage(model, 'fx', 'x86_64', { log, repo, outRoot }), log);
  assert.ok(report.identical, JSON.stringify(report.differences));
  const outDir = join(report.dirs[0], 'images/fx/x86_64');
  assert.deepEqual((await readdir(outDir)).sort(), ['cmdline', 'disk.qcow2', 'disk.raw', 'disk.raw.intoto.json', 'disk.vhd', 'manifest.json', 'root.roothash', 'root.squashfs', 'root.squashfs.intoto.json', 'root.verity', 'root.verity-sig', 'sbom.spdx.json']);
  const manifest = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8'));

  const sig = JSON.parse(await readFile(join(outDir, 'root.verity-sig'), 'utf8')) as { rootHash: string; certificateFingerprint: string; signature: string };
  assert.equal(sig.rootHash, manifest.verity.rootHash);
  const der = join(root, 'cert.der');
  await run('openssl', ['x509', '-in', cert, '-outform', 'DER', '-out', der]);
  assert.equal(sig.certificateFingerprint, sha256Hex(await readFile(der)));
  await writeFile(join(root, 'sig.p7s'), Buffer.from(sig.signature, 'base64'));
  await writeFile(join(root, 'content'), sig.rootHash);
  await run('openssl', ['smime', '-verify', '-binary', '-inform', 'DER', '-in', join(root, 'sig.p7s'), '-content', join(root, 'content'), '-certfile', cert, '-CAfile', cert, '-out', '/dev/null']);

  const table = await readGpt(join(outDir, 'disk.raw'));
  assert.deepEqual(table.entries.map((e) => e.typeGuid), ['root', 'root-verity', 'root-verity-sig'].map((r) => partitionType('x86_64', r as 'root')));
  const qcow = JSON.parse((await run('qemu-img', ['info', '--output=json', join(outDir, 'disk.qcow2')])).stdout) as { format: string; 'virtual-size': number };
  assert.deepEqual([qcow.format, qcow['virtual-size']], ['qcow2', manifest.disk.size]);
  await run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', join(outDir, 'disk.raw'), join(outDir, 'disk.qcow2')]);
  // Hyper-V/Azure read the footer's current size (qemu guesses CHS geometry for unknown creators unless told).
  const vhdOpts = `driver=vpc,force_size_calc=current_size,file.driver=file,file.filename=${join(outDir, 'disk.vhd')}`;
  const vhd = JSON.parse((await run('qemu-img', ['info', '--output=json', '--image-opts', vhdOpts])).stdout) as { 'virtual-size': number };
  assert.equal(vhd['virtual-size'], manifest.disk.size);

  const tree = await extractFilesystem(join(outDir, 'root.squashfs'), 'squashfs');
  assert.ok((await lstat(join(tree, 'usr/sbin/fx-init'))).isFile());
});

test('without verity the disk has one partition mounted by PARTUUID', async () => {
  const model = fixtureModel(await project(), [fixtureImage({ verity: false })]);
  const { outDir, manifest } = await composeImage(model, 'fx', 'x86_64', { log, repo });
  assert.equal(manifest.verity, null);
  assert.deepEqual(manifest.disk!.partitions.map((p) => p.role), ['root']);
  assert.match(await readFile(join(outDir, 'cmdline'), 'utf8'), /^root=PARTUUID=[0-9a-f-]{36} rootfstype=erofs ro init=\/usr\/sbin\/fx-init\n$/);
  assert.ok((await verifyImage(model, 'fx', 'x86_64', { log })).ok);
});

test('repro names the first differing artifact and the file inside it', async () => {
  const model = fixtureModel(await project());
  const variants = [fixtureImage(), fixtureImage({ minimise: { docs: true, locales: ['C'], remove: ['etc/fx.conf'] } })];
  let call = 0;
  const report = await compareComposes('fx', 'x86_64', (outRoot) => composeImage({ ...model, images: { fx: variants[call++]! } }, 'fx', 'x86_64', { log, repo, outRoot }), log);
  assert.equal(report.identical, false);
  assert.equal(report.differences[0]!.artifact, 'root.erofs');
  assert.equal(report.differences[0]!.inside, '/etc/fx.conf (only in the first)');
  assert.ok(report.differences.some((d) => d.artifact === 'disk.raw'));
});

test('extra repositories supply what the distro repository lacks', async () => {
  const root = await project();
  const own = join(root, 'own');
  const mirror = join(root, 'mirror');
  for (const dir of [own, mirror]) await mkdir(dir);
  for (const file of await readdir(repo)) {
    if (!file.endsWith('.rpm')) continue;
    await copyFile(join(repo, file), join(file.startsWith('fx-config-') ? mirror : own, file));
  }
  for (const dir of [own, mirror]) await run('createrepo_c', ['--quiet', dir]);
  const without = fixtureModel(root);
  await assert.rejects(composeImage(without, 'fx', 'x86_64', { log, repo: own }), /nothing provides fx-config >= 2 needed by fx-init-1\.0-1\.x86_64/);
  const model = fixtureModel(root, [fixtureImage({ extraRepos: [mirror] })]);
  const { manifest } = await composeImage(model, 'fx', 'x86_64', { log, repo: own });
  assert.deepEqual(manifest.packages.map((p) => p.name), ['fx-config', 'fx-filesystem', 'fx-init']);
});

test('an aarch64 image holding x86-64 machine code is refused, naming file and package', async () => {
  const mislabelled = await mislabelledAarch64Repo();
  const model = fixtureModel(await project());
  await assert.rejects(composeImage(model, 'fx', 'aarch64', { log, repo: mislabelled }), (error: unknown) => {
    assert.ok(error instanceof StrataError);
    assert.match(error.message, /holds 1 ELF file\(s\) built for another architecture/);
    assert.deepEqual(error.details, ['/usr/sbin/fx-init: x86_64', 'shipped by: fx-init']);
    return true;
  });
});
