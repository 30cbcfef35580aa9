/**
 * check_elf_arch: every ELF file in the tree must be for the image's arch.
 * `rpmbuild --target aarch64` with the host's compiler macros silently puts
 * x86-64 machine code into an aarch64-labelled RPM; such an image would only
 * fail at boot. Reading each file's ELF header (e_machine) catches it here,
 * naming the files and the packages that ship them.
 */
import { open } from 'node:fs/promises';
import type { Arch } from '../../config/model.js';
import { StrataError } from '../../util/errors.js';
import { walkTree } from '../../util/paths.js';
import type { ComposeStep } from '../context.js';

/** ELF e_machine values (elf.h). */
const MACHINES: Record<number, string> = { 3: 'i386', 40: 'arm', 62: 'x86_64', 183: 'aarch64', 243: 'riscv' };
const EXPECTED: Record<Arch, number> = { x86_64: 62, aarch64: 183 };

/** The machine an ELF header names, or null when the bytes are not an ELF header. */
export function elfMachine(header: Buffer): number | null {
  if (header.length < 20 || header.readUInt32BE(0) !== 0x7f454c46) return null;
  // EI_DATA: 1 little-endian, 2 big-endian.
  return header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
}

export const checkElfArch: ComposeStep = {
  name: 'check_elf_arch',
  applies: () => true,
  async run(context) {
    const wrong: string[] = [];
    const header = Buffer.alloc(20);
    for (const entry of await walkTree(context.stageRoot)) {
      if (entry.type !== 'file' || entry.size < 20) continue;
      const handle = await open(entry.absPath, 'r');
      try {
        await handle.read(header, 0, 20, 0);
      } finally {
        await handle.close();
      }
      const machine = elfMachine(header);
      if (machine !== null && machine !== EXPECTED[context.arch]) wrong.push(`/${entry.path}: ${MACHINES[machine] ?? `machine ${machine}`}`);
    }
    if (wrong.length === 0) return context;
    const owners = new Set<string>();
    for (const line of wrong) {
      const path = line.slice(0, line.indexOf(':'));
      for (const [name, files] of context.packageFiles) if (files.includes(path)) owners.add(name);
    }
    throw new StrataError(`image ${context.image.name} (${context.arch}) holds ${wrong.length} ELF file(s) built for another architecture`, {
      kind: 'build',
      location: context.image.definedAt,
      details: [...wrong.slice(0, 20), ...(wrong.length > 20 ? [`… and ${wrong.length - 20} more`] : []), `shipped by: ${[...owners].sort().join(', ') || 'no package (created by a scriptlet)'}`],
      hint: `rebuild those packages with the ${context.arch} toolchain (rpmbuild --target alone keeps the host compiler)`,
    });
  },
};
