/**
 * Which kernel modules the boot-test initramfs loads, in which order. The
 * order comes from each module's own `depends=` entry in its .modinfo
 * section (what depmod reads), so no list is hard-coded per kernel: ask for
 * the leaves (virtio_blk, dm_verity, erofs) and their dependencies come first.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { StrataError } from '../../util/errors.js';

/** Module names use '_' where file names may use '-' (dm-verity.ko is module dm_verity). */
export const moduleName = (fileOrName: string): string => fileOrName.replace(/\.ko(\.[a-z]+)?$/, '').replace(/-/g, '_');

/** The `depends=` list of a module, read from its .modinfo strings. */
export function modinfoDepends(ko: Buffer): string[] {
  const marker = Buffer.from('\0depends=');
  const at = ko.indexOf(marker);
  if (at < 0) return [];
  const end = ko.indexOf(0, at + marker.length);
  const value = ko.toString('latin1', at + marker.length, end);
  return value === '' ? [] : value.split(',').map(moduleName);
}

async function indexModules(dir: string, base = dir, out = new Map<string, string>()): Promise<Map<string, string>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await indexModules(path, base, out);
    else if (entry.name.endsWith('.ko')) out.set(moduleName(entry.name), relative(base, path));
  }
  return out;
}

export interface ModulePlan {
  /** Paths relative to the kernel's module folder, dependencies before dependents. */
  order: string[];
  /** Requested modules the kernel has built in. */
  builtin: string[];
}

/**
 * The load order for `wanted` under lib/modules/VERSION: a depth-first
 * topological order over the depends= graph; built-in modules are skipped,
 * a module that exists nowhere is an error.
 */
export async function planModules(moduleDir: string, wanted: readonly string[]): Promise<ModulePlan> {
  const files = await indexModules(join(moduleDir, 'kernel'));
  const builtinList = await readFile(join(moduleDir, 'modules.builtin'), 'utf8').catch(() => '');
  const builtins = new Set(builtinList.split('\n').filter((l) => l !== '').map((l) => moduleName(l.split('/').pop()!)));
  const order: string[] = [];
  const builtin: string[] = [];
  const done = new Set<string>();
  const visit = async (name: string, chain: string[]): Promise<void> => {
    if (done.has(name)) return;
    done.add(name);
    if (builtins.has(name)) {
      builtin.push(name);
      return;
    }
    const file = files.get(name);
    if (!file) throw new StrataError(`kernel module ${name} is neither built in nor shipped in ${moduleDir}`, { kind: 'build', details: [`needed by: ${chain.join(' → ') || 'the initramfs'}`] });
    for (const dep of modinfoDepends(await readFile(join(moduleDir, 'kernel', file)))) await visit(dep, [...chain, name]);
    order.push(`kernel/${file}`);
  };
  for (const name of wanted) await visit(moduleName(name), []);
  return { order, builtin };
}
