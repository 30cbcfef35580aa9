/**
 * write_provenance: the composer step that writes the image's in-toto/SLSA
 * statement. It runs after write_sbom and before write_manifest, so the
 * statement names every image file (and the SBOM as a byproduct), and the
 * manifest in turn lists the statement files with their digests.
 *
 * The statement is written beside the artifacts people ship and verify —
 * the filesystem image and the disk image — as `<artifact>.intoto.json`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ComposeContext, ComposeStep } from '../compose/context.js';
import { defaultRepo, packagesFor } from '../compose/image.js';
import { MANIFEST_FILE } from '../compose/manifest.js';
import { SBOM_FILE } from '../compose/steps/write_sbom.js';
import { hashRecord } from '../util/hash.js';
import { PROVENANCE_SUFFIX, imageProvenance, writeProvenanceBeside, type ArtifactFile, type Statement } from './provenance.js';

/** The image definition as it shapes this arch's image: the statement's external parameters. */
function definitionFor(context: ComposeContext): Record<string, unknown> {
  const { image, arch } = context;
  return {
    packages: packagesFor(image, arch),
    extraRepos: image.extraRepos,
    filesystem: image.filesystem,
    verity: image.verity,
    layout: image.layout,
    init: image.init,
    cmdline: image.cmdline,
    formats: image.formats,
    minimise: image.minimise,
    signed: image.signing !== null,
  };
}

export async function composeStatement(context: ComposeContext): Promise<Statement> {
  const { model, arch } = context;
  const names = (await readdir(context.outDir)).filter((name) => name !== MANIFEST_FILE && name !== SBOM_FILE && !name.endsWith(PROVENANCE_SUFFIX)).sort();
  const repo = defaultRepo(model, arch);
  const packages = context.installed.map((pkg) => ({
    nevra: pkg.nevra,
    component: pkg.component,
    file: { path: join(repo, pkg.rpmFile), sha256: pkg.rpmSha256 },
  }));
  const definition = definitionFor(context);
  return imageProvenance({
    root: model.root,
    configFingerprint: model.fingerprint,
    sourceDateEpoch: model.distro.sourceDateEpoch,
    arch,
    // What the image is made of: the same inputs give the same id.
    invocationId: hashRecord({ image: context.image.name, arch, definition, packages: packages.map((p) => [p.nevra, p.file.sha256]), config: model.fingerprint }),
    image: context.image.name,
    definition,
    packages,
    artifacts: names.map((name) => ({ path: join(context.outDir, name) })),
    rootHash: context.verity?.rootHash,
    byproducts: context.sbom === undefined ? [] : [{ path: join(context.outDir, SBOM_FILE) }],
  });
}

export const writeProvenanceStep: ComposeStep = {
  name: 'write_provenance',
  applies: () => true,
  async run(context) {
    const statement = await composeStatement(context);
    const beside: ArtifactFile[] = [context.filesystem!.file, ...(context.disk ? [context.disk.file] : [])].map((name) => ({ path: join(context.outDir, name) }));
    await writeProvenanceBeside(beside, statement);
    return context;
  },
};
