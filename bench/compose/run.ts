/**
 * bench/compose: composes the example distro's image with strata and, in the
 * same run, does the same steps with the bare tools by hand (dnf resolve and
 * download, rpm install, the same removals, mkfs.erofs, veritysetup, sfdisk
 * and dd), then reports strata's overhead over that pipeline and the image
 * size against the summed installed size of its packages.
 *
 *   node dist/bench/compose/run.js [PROJECT] [--image minimal] [--arch x86_64] [--rounds 3]
 *
 * Writes bench/results/compose.json under the project.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadProject } from '../../src/config/load.js';
import type { Arch } from '../../src/config/model.js';
import { buildDistro, repoDir } from '../../src/build/index.js';
import { composeImage, findImage } from '../../src/compose/index.js';
import { createLogger } from '../../src/util/log.js';
import { run } from '../../src/util/process.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { image: { type: 'string', default: 'minimal' }, arch: { type: 'string', default: 'x86_64' }, rounds: { type: 'string', default: '3' } },
});
const project = resolve(positionals[0] ?? process.cwd());
const arch = values.arch as Arch;
const rounds = Number(values.rounds);
const quiet = createLogger('quiet');

const model = await loadProject({ cwd: project });
const image = findImage(model, values.image);
process.stderr.write(`building the distro for ${arch} (cached jobs reused; not timed)\n`);
await buildDistro(model, { arches: [arch], log: quiet });
const repo = repoDir(model, arch);
const epoch = String(model.distro.sourceDateEpoch);
const env = { SOURCE_DATE_EPOCH: epoch, LC_ALL: 'C' };

/** The same work as strata's steps, as a distro engineer would type it. */
async function barePipeline(work: string): Promise<{ filesystemBytes: number }> {
  const root = join(work, 'root');
  const rpms = join(work, 'rpms');
  await mkdir(join(work, 'log'), { recursive: true });
  await run('dnf', ['-y', '-q', `--installroot=${join(work, 'dnfroot')}`, `--releasever=${model.distro.version}`, '--setopt=reposdir=/dev/null', `--setopt=cachedir=${join(work, 'cache')}`, `--setopt=logdir=${join(work, 'log')}`, '--setopt=install_weak_deps=False', '--nogpgcheck', '--disablerepo=*', `--repofrompath=r,${repo}`, '--enablerepo=r', ...(arch === 'x86_64' ? [] : [`--forcearch=${arch}`]), '--downloadonly', `--downloaddir=${rpms}`, 'install', ...image.packages], { env });
  const files = (await readdir(rpms)).filter((f) => f.endsWith('.rpm')).map((f) => join(rpms, f));
  await run('rpm', ['--root', root, '--dbpath', '/usr/lib/sysimage/rpm', '--nosignature', '--excludedocs', '--define', `_install_langs ${image.minimise.locales.join(':')}`, ...(arch === 'x86_64' ? [] : ['--ignorearch']), '-i', ...files], { env });
  await run('sh', ['-c', `cd '${root}' && rm -rf usr/share/doc usr/share/man usr/share/info var/cache/* var/log/* usr/lib/sysimage/rpm/.rpm.lock usr/lib/sysimage/rpm/rpmdb.sqlite-shm usr/lib/sysimage/rpm/rpmdb.sqlite-wal && : > etc/machine-id`]);
  const img = join(work, 'root.erofs');
  await run('mkfs.erofs', ['--quiet', '-zlz4hc', `-T${epoch}`, '-U11111111-2222-4333-8444-555555555555', img, root], { env });
  const verity = await run('veritysetup', ['format', img, join(work, 'root.verity'), `--salt=${'ab'.repeat(32)}`, '--uuid=11111111-2222-4333-8444-555555555555'], { env });
  const rootHash = /Root hash:\s*(\S+)/.exec(verity.stdout)![1]!;
  const dataMiB = Math.ceil((await stat(img)).size / 1048576);
  const hashMiB = Math.ceil((await stat(join(work, 'root.verity'))).size / 1048576);
  const disk = join(work, 'disk.raw');
  await run('truncate', ['-s', `${(1 + dataMiB + hashMiB + 1) * 1048576}`, disk]);
  const uuid = (h: string): string => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  const script = [
    'label: gpt',
    'label-id: 01234567-89ab-4cde-8f01-23456789abcd',
    `start=2048, size=${dataMiB * 2048}, type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709, uuid=${uuid(rootHash.slice(0, 32))}, name=root-x86-64`,
    `size=${hashMiB * 2048}, type=2c7357ed-ebd2-46d9-aec1-23d437ec2bf5, uuid=${uuid(rootHash.slice(32))}, name=root-x86-64-verity`,
  ].join('\n');
  await run('sfdisk', ['--quiet', disk], { input: `${script}\n` });
  await run('dd', [`if=${img}`, `of=${disk}`, 'bs=1M', 'seek=1', 'conv=notrunc', 'status=none']);
  await run('dd', [`if=${join(work, 'root.verity')}`, `of=${disk}`, 'bs=1M', `seek=${1 + dataMiB}`, 'conv=notrunc', 'status=none']);
  return { filesystemBytes: (await stat(img)).size };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const strataTimes: number[] = [];
const bareTimes: number[] = [];
let manifest: Awaited<ReturnType<typeof composeImage>>['manifest'] | undefined;
for (let round = 1; round <= rounds; round++) {
  // Alternate the order so neither side always runs with warmer caches.
  const order = round % 2 === 1 ? ['strata', 'bare'] : ['bare', 'strata'];
  for (const which of order) {
    const work = await mkdtemp(join(tmpdir(), `strata-bench-${which}-`));
    const started = performance.now();
    if (which === 'strata') manifest = (await composeImage(model, image.name, arch, { log: quiet, repo, outRoot: work })).manifest;
    else await barePipeline(work);
    const seconds = (performance.now() - started) / 1000;
    (which === 'strata' ? strataTimes : bareTimes).push(seconds);
    await rm(work, { recursive: true, force: true });
    process.stderr.write(`round ${round}: ${which} ${seconds.toFixed(2)} s\n`);
  }
}

const strata = median(strataTimes);
const bare = median(bareTimes);
const installed = manifest!.sizes.installedPackages;
const result = {
  benchmark: 'compose',
  image: image.name,
  arch,
  rounds,
  packages: manifest!.packages.length,
  strataSeconds: strataTimes,
  bareSeconds: bareTimes,
  strataMedian: strata,
  bareMedian: bare,
  overheadPercent: ((strata - bare) / bare) * 100,
  targetOverheadPercent: 25,
  installedBytes: installed,
  filesystemBytes: manifest!.sizes.filesystemImage,
  diskBytes: manifest!.sizes.disk,
  filesystemToInstalled: manifest!.sizes.filesystemImage / installed,
  host: { cpus: availableParallelism(), loadAverage: loadavg() },
};
await mkdir(join(project, 'bench/results'), { recursive: true });
await writeFile(join(project, 'bench/results/compose.json'), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  [
    `compose ${image.name}/${arch}, ${result.packages} packages, median of ${rounds}:`,
    `  strata        ${strata.toFixed(2)} s`,
    `  bare tools    ${bare.toFixed(2)} s`,
    `  overhead      ${result.overheadPercent.toFixed(1)} % (target ≤ 25 %)`,
    `  installed size of the packages ${installed} bytes; erofs image ${result.filesystemBytes} bytes (${(result.filesystemToInstalled * 100).toFixed(0)} %); disk ${result.diskBytes} bytes`,
    '',
  ].join('\n'),
);
