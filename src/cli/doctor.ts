import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { defineCommand } from './command.js';
import { loadModel } from './project.js';
import { createExecutor, executorNames } from '../build/executors/index.js';
import type { ProbeResult } from '../build/executor.js';
import { cacheDir } from '../build/index.js';
import { run } from '../util/process.js';
import { paint } from '../util/log.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A host tool strata runs, how to ask its version, and whether strata can work without it. */
interface Tool {
  command: string;
  args: string[];
  purpose: string;
  required: boolean;
}

const TOOLS: Tool[] = [
  { command: 'rpmbuild', args: ['--version'], purpose: 'builds RPMs', required: true },
  { command: 'rpmspec', args: ['--version'], purpose: 'evaluates specs', required: true },
  { command: 'rpm', args: ['--version'], purpose: 'job rpm databases, installs', required: true },
  { command: 'createrepo_c', args: ['--version'], purpose: 'repository metadata', required: true },
  { command: 'bwrap', args: ['--version'], purpose: 'bubblewrap sandbox', required: true },
  { command: 'unshare', args: ['--version'], purpose: 'private mount namespaces', required: true },
  { command: 'dnf', args: ['--version'], purpose: 'installs image roots', required: true },
  { command: 'mkfs.erofs', args: ['-V'], purpose: 'erofs images', required: true },
  { command: 'mksquashfs', args: ['-version'], purpose: 'squashfs images', required: false },
  { command: 'veritysetup', args: ['--version'], purpose: 'dm-verity hash trees', required: true },
  { command: 'sfdisk', args: ['--version'], purpose: 'partition tables', required: true },
  { command: 'file', args: ['--version'], purpose: 'checks ELF machine types', required: true },
  { command: 'cpio', args: ['--version'], purpose: 'unpacks RPM payloads', required: true },
  { command: 'gcc', args: ['--version'], purpose: 'x86_64 compiler (host build root)', required: true },
  { command: 'aarch64-linux-gnu-gcc', args: ['--version'], purpose: 'aarch64 cross compiler', required: true },
  { command: 'qemu-aarch64-static', args: ['--version'], purpose: 'runs aarch64 %check', required: false },
  { command: 'qemu-system-x86_64', args: ['--version'], purpose: 'boot tests (x86_64)', required: false },
  { command: 'qemu-system-aarch64', args: ['--version'], purpose: 'boot tests (aarch64)', required: false },
  { command: 'nats-server', args: ['--version'], purpose: 'build farm', required: false },
  { command: 'podman', args: ['--version'], purpose: 'optional sandbox backend', required: false },
  { command: 'git', args: ['--version'], purpose: 'strata affected', required: false },
];

interface ToolReport {
  command: string;
  purpose: string;
  required: boolean;
  found: boolean;
  version: string | null;
}

async function checkTool(tool: Tool): Promise<ToolReport> {
  try {
    const out = await run(tool.command, tool.args, { allowFailure: true, timeoutMs: 20_000 });
    const line = `${out.stdout}\n${out.stderr}`.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
    return { command: tool.command, purpose: tool.purpose, required: tool.required, found: true, version: line };
  } catch {
    return { command: tool.command, purpose: tool.purpose, required: tool.required, found: false, version: null };
  }
}

interface PackageReport {
  name: string;
  version: string | null;
}

async function debianPackages(): Promise<PackageReport[]> {
  const list = await readFile(fileURLToPath(new URL('../../../src/host/debian-packages.txt', import.meta.url)), 'utf8');
  const names = list.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const out = await run('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Status} ${Version}\\n', ...names], { allowFailure: true }).catch(() => null);
  const installed = new Map<string, string>();
  for (const line of out?.stdout.split('\n') ?? []) {
    const [name, status, version] = line.split(' ');
    if (name && status === 'installed') installed.set(name, version ?? '');
  }
  return names.map((name) => ({ name, version: installed.get(name) ?? null }));
}

async function kernelFeatures(): Promise<Array<{ feature: string; ok: boolean; detail: string }>> {
  const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  const binfmt = await readFile('/proc/sys/fs/binfmt_misc/qemu-aarch64', 'utf8').catch(() => null);
  return [
    { feature: 'overlayfs', ok: /\toverlay$/m.test(filesystems), detail: 'layers dependency RPMs over the build root' },
    {
      feature: 'binfmt qemu-aarch64',
      ok: binfmt !== null && binfmt.startsWith('enabled'),
      detail: binfmt === null ? 'not registered: aarch64 %check cannot run (update-binfmts --enable qemu-aarch64)' : 'runs aarch64 binaries for %check',
    },
  ];
}

export default defineCommand({
  command: 'doctor',
  describe: 'check the host: tools strata runs (with versions), kernel features, and which sandbox backends work',
  examples: [
    ['strata doctor', 'list every tool and try every sandbox backend for real'],
    ['strata doctor --json', 'the same as one JSON document'],
  ],
  run: async (_args, context) => {
    // Inside a project, the configured backend and cache are the ones tried; anywhere else, a scratch cache.
    const model = await loadModel(context).catch(() => null);
    const cache = model ? cacheDir(model) : join(tmpdir(), 'strata-doctor-cache');
    const [tools, packages, kernel, backends] = await Promise.all([
      Promise.all(TOOLS.map(checkTool)),
      debianPackages(),
      kernelFeatures(),
      Promise.all(executorNames().map((name): Promise<ProbeResult> => createExecutor(name, { cacheDir: cache, log: context.log }).probe())),
    ]);
    const selected = model?.build.sandbox ?? 'bubblewrap';
    const missingRequired = tools.filter((t) => t.required && !t.found);
    const selectedWorks = backends.find((b) => b.backend === selected)?.ok ?? false;
    const ok = missingRequired.length === 0 && selectedWorks && kernel.find((k) => k.feature === 'overlayfs')!.ok;
    const color = context.log.color;
    const mark = (good: boolean, optional = false): string => (good ? paint(color, 'green', 'ok  ') : optional ? paint(color, 'yellow', '--  ') : paint(color, 'red', 'MISS'));
    const text = [
      'tools:',
      ...tools.map((t) => `  ${mark(t.found, !t.required)} ${t.command.padEnd(24)} ${(t.version ?? 'not found').slice(0, 60).padEnd(60)} ${t.purpose}${t.required ? '' : ' (optional)'}`),
      'kernel:',
      ...kernel.map((k) => `  ${mark(k.ok, k.feature !== 'overlayfs')} ${k.feature.padEnd(24)} ${k.detail}`),
      'sandbox backends:',
      ...backends.map((b) => `  ${mark(b.ok, b.backend !== selected)} ${b.backend.padEnd(24)} ${b.detail}${b.backend === selected ? '  [selected]' : ''}`),
      'Debian packages (src/host/debian-packages.txt):',
      `  ${packages.filter((p) => p.version !== null).length}/${packages.length} installed${packages.some((p) => p.version === null) ? `; missing: ${packages.filter((p) => p.version === null).map((p) => p.name).join(' ')}` : ''}`,
      ok ? 'strata can build on this host' : `strata cannot build here yet: ${[...missingRequired.map((t) => t.command), ...(selectedWorks ? [] : [`the ${selected} backend`])].join(', ')}`,
    ].join('\n');
    return { exitCode: ok ? 0 : 1, json: { ok, tools, kernel, backends, selectedBackend: selected, debianPackages: packages }, text };
  },
});
