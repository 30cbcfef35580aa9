import type { Arch, DistroModel } from '../config/model.js';
import { StrataError } from '../util/errors.js';

/**
 * The distro's rpm macro context for one target arch, materialised as a private
 * rpm config folder (host /usr/lib/rpm + the distro's macro files, rpmrc, Lua
 * modules). rpmspec and rpmbuild both run in it so that a spec evaluates the
 * same way for the graph and for the build.
 */
export interface MacroContext {
  arch: Arch;
  /** The private RPM_CONFIGDIR. */
  configDir: string;
  /** Environment for rpm tools (RPM_CONFIGDIR, SOURCE_DATE_EPOCH, …). */
  env: Record<string, string>;
  /** Arguments every rpm invocation takes (--target, --define …). */
  rpmArgs: string[];
  /** Identity of the context: changes whenever any macro input changes. */
  hash: string;
}

// PLACEHOLDER: replaced by the spec stage (issue 4).
export async function prepareMacroContext(_model: DistroModel, _arch: Arch, _cacheDir: string): Promise<MacroContext> {
  throw new StrataError('macro contexts are not implemented yet', { kind: 'build' });
}
