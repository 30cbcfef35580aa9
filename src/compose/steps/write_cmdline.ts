/**
 * write_cmdline: the kernel command-line arguments that activate the image,
 * in systemd's vocabulary (systemd-veritysetup-generator, systemd-fstab-
 * generator), which strata's boot-test initramfs reads as well:
 * roothash=/usrhash= plus the data and hash partitions by PARTUUID.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ComposeContext, ComposeStep } from '../context.js';

export function kernelArguments(context: ComposeContext): string[] {
  const { image, verity, disk, filesystem } = context;
  const part = (role: string): string => `PARTUUID=${disk!.partitions.find((p) => p.role === role)!.uuid}`;
  const fstype = filesystem!.type;
  const args: string[] = [];
  if (image.layout === 'root') {
    if (verity) {
      args.push(`roothash=${verity.rootHash}`, `systemd.verity_root_data=${part('root')}`, `systemd.verity_root_hash=${part('root-verity')}`, 'root=/dev/mapper/root');
    } else {
      args.push(`root=${part('root')}`);
    }
    args.push(`rootfstype=${fstype}`, 'ro');
  } else {
    // The root is a tmpfs that the initrd fills with the merged-/usr symlinks; /usr is the image.
    if (verity) {
      args.push(`usrhash=${verity.rootHash}`, `systemd.verity_usr_data=${part('usr')}`, `systemd.verity_usr_hash=${part('usr-verity')}`, 'mount.usr=/dev/mapper/usr');
    } else {
      args.push(`mount.usr=${part('usr')}`);
    }
    args.push(`mount.usrfstype=${fstype}`, 'mount.usrflags=ro', 'root=tmpfs');
  }
  args.push(`init=${image.init}`, ...image.cmdline);
  return args;
}

export const writeCmdline: ComposeStep = {
  name: 'write_cmdline',
  applies: (context) => context.disk !== undefined,
  async run(context) {
    const cmdline = kernelArguments(context).join(' ');
    await writeFile(join(context.outDir, 'cmdline'), `${cmdline}\n`);
    return { ...context, cmdline };
  },
};
