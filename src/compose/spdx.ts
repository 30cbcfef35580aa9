/**
 * The image's SBOM as an SPDX 2.3 JSON document, and a checker for the
 * structure the SPDX 2.3 JSON schema requires (spdx-spec, schemas/spdx-schema.json):
 * strata validates every SBOM it writes and every one `strata verify` reads,
 * without a network fetch of the schema.
 */
import type { InstalledPackage } from './context.js';

export interface SpdxInput {
  distro: { name: string; version: string; vendor: string };
  image: string;
  arch: string;
  /** What the document is about: the root hash (or filesystem SHA-256) makes the namespace unique per image content. */
  identity: string;
  sourceDateEpoch: number;
  toolVersion: string;
  packages: InstalledPackage[];
  /** Artifacts of the image itself (disk, filesystem) with their SHA-256. */
  artifacts: Array<{ name: string; sha256: string }>;
}

type Json = Record<string, unknown>;

/** SPDX ids allow letters, digits, '.' and '-' only. */
export function spdxId(kind: string, name: string): string {
  return `SPDXRef-${kind}-${name.replace(/[^A-Za-z0-9.-]/g, '-')}`;
}

/** An RPM License tag is used as the SPDX expression only when it is shaped like one (Fedora's are; older ones like "GPLv2+" are not). */
export function spdxLicense(rpmLicense: string): string {
  const id = String.raw`[A-Za-z0-9][A-Za-z0-9.+-]*`;
  const expression = new RegExp(String.raw`^\(*${id}(\)*\s+(AND|OR|WITH)\s+\(*${id})*\)*$`);
  const legacy = /^(GPLv|LGPLv|BSD$|MIT\/X11|Public Domain|ASL )/;
  return expression.test(rpmLicense.trim()) && !legacy.test(rpmLicense.trim()) ? rpmLicense.trim() : 'NOASSERTION';
}

export function buildSpdx(input: SpdxInput): Json {
  const created = new Date(input.sourceDateEpoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const imageId = spdxId('Image', `${input.image}-${input.arch}`);
  const supplier = input.distro.vendor === '' ? 'NOASSERTION' : `Organization: ${input.distro.vendor}`;
  const packages: Json[] = [
    {
      SPDXID: imageId,
      name: `${input.distro.name}-${input.image}`,
      versionInfo: input.distro.version,
      supplier,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'OPERATING-SYSTEM',
      checksums: [],
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      comment: `image ${input.image} for ${input.arch}; artifacts: ${input.artifacts.map((a) => `${a.name} sha256:${a.sha256}`).join(', ')}`,
    },
  ];
  const relationships: Json[] = [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: imageId }];
  for (const p of input.packages) {
    const id = spdxId('RPM', p.nevra);
    const license = spdxLicense(p.license);
    const qualifiers = [`arch=${p.arch}`, ...(p.epoch !== null ? [`epoch=${p.epoch}`] : []), `upstream=${encodeURIComponent(p.sourceRpm)}`];
    packages.push({
      SPDXID: id,
      name: p.name,
      versionInfo: `${p.epoch !== null ? `${p.epoch}:` : ''}${p.version}-${p.release}`,
      packageFileName: p.rpmFile,
      supplier: p.vendor === '' ? supplier : `Organization: ${p.vendor}`,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      checksums: [{ algorithm: 'SHA256', checksumValue: p.rpmSha256 }],
      sourceInfo: `built from source RPM ${p.sourceRpm} (component ${p.component})`,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: license,
      ...(license === 'NOASSERTION' && p.license !== '' ? { licenseComments: `RPM License tag: ${p.license}` } : {}),
      copyrightText: 'NOASSERTION',
      summary: p.summary,
      externalRefs: [
        {
          referenceCategory: 'PACKAGE-MANAGER',
          referenceType: 'purl',
          referenceLocator: `pkg:rpm/${encodeURIComponent(input.distro.name)}/${encodeURIComponent(p.name)}@${encodeURIComponent(`${p.version}-${p.release}`)}?${qualifiers.join('&')}`,
        },
      ],
    });
    relationships.push({ spdxElementId: imageId, relationshipType: 'CONTAINS', relatedSpdxElement: id });
  }
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${input.distro.name}-${input.image}-${input.arch}`,
    documentNamespace: `https://spdx.strata.invalid/${encodeURIComponent(input.distro.name)}/${encodeURIComponent(input.image)}/${input.arch}/${input.identity}`,
    creationInfo: { created, creators: [`Tool: strata-${input.toolVersion}`, supplier === 'NOASSERTION' ? 'Organization: unknown' : supplier] },
    documentDescribes: [imageId],
    packages,
    relationships,
  };
}

const CHECKSUM_ALGORITHMS = new Set(['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512', 'SHA3-256', 'SHA3-384', 'SHA3-512', 'BLAKE2b-256', 'BLAKE2b-384', 'BLAKE2b-512', 'BLAKE3', 'MD2', 'MD4', 'MD5', 'MD6', 'ADLER32']);
const RELATIONSHIP_TYPES = new Set([
  'VARIANT_OF', 'COPY_OF', 'PATCH_FOR', 'TEST_DEPENDENCY_OF', 'CONTAINED_BY', 'DATA_FILE_OF', 'OPTIONAL_COMPONENT_OF', 'ANCESTOR_OF',
  'GENERATES', 'CONTAINS', 'OPTIONAL_DEPENDENCY_OF', 'FILE_ADDED', 'REQUIREMENT_DESCRIPTION_FOR', 'DEV_DEPENDENCY_OF', 'DEPENDENCY_OF',
  'BUILD_DEPENDENCY_OF', 'DESCRIBES', 'PREREQUISITE_FOR', 'HAS_PREREQUISITE', 'PROVIDED_DEPENDENCY_OF', 'DYNAMIC_LINK', 'DESCRIBED_BY',
  'METAFILE_OF', 'DEPENDENCY_MANIFEST_OF', 'PATCH_APPLIED', 'RUNTIME_DEPENDENCY_OF', 'TEST_OF', 'TEST_TOOL_OF', 'DEPENDS_ON',
  'SPECIFICATION_FOR', 'FILE_MODIFIED', 'DISTRIBUTION_ARTIFACT', 'AMENDS', 'DOCUMENTATION_OF', 'GENERATED_FROM', 'STATIC_LINK', 'OTHER',
  'BUILD_TOOL_OF', 'TEST_CASE_OF', 'PACKAGE_OF', 'DEV_TOOL_OF', 'EXAMPLE_OF', 'FILE_DELETED', 'EXPANDED_FROM_ARCHIVE', 'REQUIREMENT_DESCRIPTION_FOR',
]);
const PURPOSES = new Set(['OTHER', 'INSTALL', 'ARCHIVE', 'FIRMWARE', 'APPLICATION', 'FRAMEWORK', 'LIBRARY', 'CONTAINER', 'SOURCE', 'DEVICE', 'OPERATING-SYSTEM', 'FILE']);
const SPDX_ID = /^SPDXRef-[A-Za-z0-9.-]+$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * Problems with `doc` as an SPDX 2.3 JSON document (empty when valid): the
 * required properties and types of the schema, its enumerations, plus the
 * spec's rules the schema cannot express (unique ids, relationships that point
 * at existing elements, packageVerificationCode when files were analysed).
 */
export function validateSpdx(doc: unknown): string[] {
  const problems: string[] = [];
  const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
  const str = (o: Json, key: string, where: string): string | undefined => {
    const v = o[key];
    if (typeof v !== 'string' || v === '') {
      problems.push(`${where}.${key}: required non-empty string`);
      return undefined;
    }
    return v;
  };
  if (!isObject(doc)) return ['document: not a JSON object'];
  if (str(doc, 'spdxVersion', '$') !== undefined && doc.spdxVersion !== 'SPDX-2.3') problems.push(`$.spdxVersion: expected SPDX-2.3, got ${String(doc.spdxVersion)}`);
  if (str(doc, 'dataLicense', '$') !== undefined && doc.dataLicense !== 'CC0-1.0') problems.push('$.dataLicense: must be CC0-1.0');
  if (str(doc, 'SPDXID', '$') !== undefined && doc.SPDXID !== 'SPDXRef-DOCUMENT') problems.push('$.SPDXID: must be SPDXRef-DOCUMENT');
  str(doc, 'name', '$');
  const namespace = str(doc, 'documentNamespace', '$');
  if (namespace !== undefined && (!/^[a-z][a-z0-9+.-]*:\/\/\S+$/.test(namespace) || namespace.includes('#'))) problems.push('$.documentNamespace: must be an absolute URI without #');
  if (!isObject(doc.creationInfo)) problems.push('$.creationInfo: required object');
  else {
    const created = str(doc.creationInfo, 'created', '$.creationInfo');
    if (created !== undefined && !DATE_TIME.test(created)) problems.push('$.creationInfo.created: must be YYYY-MM-DDThh:mm:ssZ');
    const creators = doc.creationInfo.creators;
    if (!Array.isArray(creators) || creators.length === 0) problems.push('$.creationInfo.creators: required non-empty array');
    else creators.forEach((c, i) => {
      if (typeof c !== 'string' || !/^(Person|Organization|Tool): \S/.test(c)) problems.push(`$.creationInfo.creators[${i}]: must start with Person:, Organization: or Tool:`);
    });
  }
  const ids = new Set<string>(['SPDXRef-DOCUMENT']);
  if (!Array.isArray(doc.packages)) problems.push('$.packages: required array');
  else
    doc.packages.forEach((p, i) => {
      const where = `$.packages[${i}]`;
      if (!isObject(p)) {
        problems.push(`${where}: not an object`);
        return;
      }
      const id = str(p, 'SPDXID', where);
      if (id !== undefined) {
        if (!SPDX_ID.test(id)) problems.push(`${where}.SPDXID: ${id} is not SPDXRef-[A-Za-z0-9.-]+`);
        if (ids.has(id)) problems.push(`${where}.SPDXID: ${id} is not unique`);
        ids.add(id);
      }
      str(p, 'name', where);
      str(p, 'downloadLocation', where);
      if ('filesAnalyzed' in p && typeof p.filesAnalyzed !== 'boolean') problems.push(`${where}.filesAnalyzed: must be a boolean`);
      if (p.filesAnalyzed !== false && !isObject(p.packageVerificationCode)) problems.push(`${where}.packageVerificationCode: required when filesAnalyzed is true (the default)`);
      if ('checksums' in p) {
        if (!Array.isArray(p.checksums)) problems.push(`${where}.checksums: must be an array`);
        else
          p.checksums.forEach((c, j) => {
            if (!isObject(c) || !CHECKSUM_ALGORITHMS.has(String(c.algorithm)) || typeof c.checksumValue !== 'string' || !/^[0-9a-f]+$/.test(c.checksumValue)) {
              problems.push(`${where}.checksums[${j}]: needs a known algorithm and a lowercase hex checksumValue`);
            }
          });
      }
      if ('primaryPackagePurpose' in p && !PURPOSES.has(String(p.primaryPackagePurpose))) problems.push(`${where}.primaryPackagePurpose: unknown value ${String(p.primaryPackagePurpose)}`);
      if ('externalRefs' in p) {
        if (!Array.isArray(p.externalRefs)) problems.push(`${where}.externalRefs: must be an array`);
        else
          p.externalRefs.forEach((r, j) => {
            if (!isObject(r) || !['SECURITY', 'PACKAGE-MANAGER', 'PERSISTENT-ID', 'OTHER'].includes(String(r.referenceCategory)) || typeof r.referenceType !== 'string' || typeof r.referenceLocator !== 'string') {
              problems.push(`${where}.externalRefs[${j}]: needs referenceCategory, referenceType and referenceLocator`);
            }
          });
      }
    });
  if (Array.isArray(doc.documentDescribes)) for (const d of doc.documentDescribes) if (!ids.has(String(d))) problems.push(`$.documentDescribes: ${String(d)} is no element of the document`);
  if ('relationships' in doc) {
    if (!Array.isArray(doc.relationships)) problems.push('$.relationships: must be an array');
    else
      doc.relationships.forEach((r, i) => {
        const where = `$.relationships[${i}]`;
        if (!isObject(r)) {
          problems.push(`${where}: not an object`);
          return;
        }
        for (const key of ['spdxElementId', 'relatedSpdxElement'] as const) {
          const v = str(r, key, where);
          if (v !== undefined && !ids.has(v) && v !== 'NONE' && v !== 'NOASSERTION') problems.push(`${where}.${key}: ${v} is no element of the document`);
        }
        if (!RELATIONSHIP_TYPES.has(String(r.relationshipType))) problems.push(`${where}.relationshipType: unknown type ${String(r.relationshipType)}`);
      });
  }
  return problems;
}
