/**
 * write_sbom: the SPDX 2.3 SBOM of the image, checked against the schema's
 * structure before it is written so strata never ships an invalid one.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StrataError } from '../../util/errors.js';
import { sha256File } from '../../util/hash.js';
import { STRATA_VERSION } from '../../version.js';
import { buildSpdx, validateSpdx } from '../spdx.js';
import type { ComposeStep } from '../context.js';

export const SBOM_FILE = 'sbom.spdx.json';

export const writeSbom: ComposeStep = {
  name: 'write_sbom',
  applies: () => true,
  async run(context) {
    const { model } = context;
    const artifacts = [context.filesystem!.file, ...(context.disk ? [context.disk.file] : [])];
    const doc = buildSpdx({
      distro: { name: model.distro.name, version: model.distro.version, vendor: model.distro.vendor },
      image: context.image.name,
      arch: context.arch,
      identity: context.verity?.rootHash ?? context.filesystem!.sha256,
      sourceDateEpoch: model.distro.sourceDateEpoch,
      toolVersion: STRATA_VERSION,
      packages: context.installed,
      artifacts: await Promise.all(artifacts.map(async (name) => ({ name, sha256: await sha256File(join(context.outDir, name)) }))),
    });
    const problems = validateSpdx(doc);
    if (problems.length > 0) throw new StrataError('the generated SBOM is not valid SPDX 2.3 (a bug in strata)', { kind: 'build', details: problems });
    await writeFile(join(context.outDir, SBOM_FILE), `${JSON.stringify(doc, null, 2)}\n`);
    return { ...context, sbom: SBOM_FILE };
  },
};
