import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpdx, spdxLicense, validateSpdx } from '../../src/compose/spdx.js';
import type { InstalledPackage } from '../../src/compose/context.js';

const pkg = (name: string, license: string): InstalledPackage => ({
  name,
  epoch: null,
  version: '1.0',
  release: '1.sx1',
  arch: 'x86_64',
  nevra: `${name}-1.0-1.sx1.x86_64`,
  sourceRpm: `${name}-1.0-1.sx1.src.rpm`,
  component: name,
  license,
  vendor: '',
  summary: `the ${name} package`,
  rpmFile: `${name}-1.0-1.sx1.x86_64.rpm`,
  rpmSha256: 'a'.repeat(64),
  installedSize: 10,
  imageBytes: 10,
});

const doc = (): Record<string, unknown> =>
  buildSpdx({
    distro: { name: 'strata-example', version: '1.0', vendor: 'strata example distro' },
    image: 'minimal',
    arch: 'x86_64',
    identity: 'b'.repeat(64),
    sourceDateEpoch: 1767225600,
    toolVersion: '0.1.0',
    packages: [pkg('greet', 'MIT'), pkg('glibc', 'LGPLv2+ and GPLv2+')],
    artifacts: [{ name: 'disk.raw', sha256: 'c'.repeat(64) }],
  });

test('the SBOM strata builds is valid SPDX 2.3 and describes every package', () => {
  const d = doc();
  assert.deepEqual(validateSpdx(d), []);
  assert.equal(d.spdxVersion, 'SPDX-2.3');
  assert.equal((d.creationInfo as { created: string }).created, '2026-01-01T00:00:00Z');
  const packages = d.packages as Array<Record<string, unknown>>;
  assert.deepEqual(packages.map((p) => p.name), ['strata-example-minimal', 'greet', 'glibc']);
  assert.equal((packages[1]!.externalRefs as Array<{ referenceLocator: string }>)[0]!.referenceLocator, 'pkg:rpm/strata-example/greet@1.0-1.sx1?arch=x86_64&upstream=greet-1.0-1.sx1.src.rpm');
  assert.equal(packages[2]!.licenseDeclared, 'NOASSERTION');
  assert.equal((d.relationships as unknown[]).length, 3);
});

test('licenses: SPDX expressions pass through, legacy RPM tags become NOASSERTION', () => {
  assert.equal(spdxLicense('MIT'), 'MIT');
  assert.equal(spdxLicense('GPL-2.0-or-later AND (MIT OR Apache-2.0)'), 'GPL-2.0-or-later AND (MIT OR Apache-2.0)');
  assert.equal(spdxLicense('GPLv2+'), 'NOASSERTION');
  assert.equal(spdxLicense('Public Domain'), 'NOASSERTION');
});

// Each case breaks one rule of the SPDX 2.3 JSON schema; the validator must name it.
const broken: Array<[string, (d: Record<string, any>) => void, RegExp]> = [
  ['spdxVersion missing', (d) => delete d.spdxVersion, /\$\.spdxVersion/],
  ['wrong spdxVersion', (d) => (d.spdxVersion = 'SPDX-2.2'), /expected SPDX-2.3/],
  ['dataLicense not CC0', (d) => (d.dataLicense = 'MIT'), /dataLicense/],
  ['document SPDXID', (d) => (d.SPDXID = 'SPDXRef-X'), /SPDXRef-DOCUMENT/],
  ['name missing', (d) => delete d.name, /\$\.name/],
  ['namespace with #', (d) => (d.documentNamespace = 'https://x/y#z'), /documentNamespace/],
  ['creationInfo missing', (d) => delete d.creationInfo, /creationInfo/],
  ['created not UTC', (d) => (d.creationInfo.created = '2026-01-01 00:00'), /created/],
  ['no creators', (d) => (d.creationInfo.creators = []), /creators/],
  ['bad creator', (d) => (d.creationInfo.creators = ['strata']), /creators\[0\]/],
  ['package SPDXID', (d) => (d.packages[1].SPDXID = 'SPDXRef-a_b'), /SPDXRef-\[A-Za-z0-9.-\]/],
  ['duplicate SPDXID', (d) => (d.packages[2].SPDXID = d.packages[1].SPDXID), /not unique/],
  ['downloadLocation missing', (d) => delete d.packages[1].downloadLocation, /downloadLocation/],
  ['filesAnalyzed without verification code', (d) => delete d.packages[1].filesAnalyzed, /packageVerificationCode/],
  ['checksum algorithm', (d) => (d.packages[1].checksums[0].algorithm = 'SHA-256'), /checksums\[0\]/],
  ['relationship target', (d) => (d.relationships[1].relatedSpdxElement = 'SPDXRef-nowhere'), /no element/],
  ['relationship type', (d) => (d.relationships[0].relationshipType = 'HAS'), /unknown type/],
  ['packages missing', (d) => delete d.packages, /\$\.packages/],
];

for (const [name, breakIt, expected] of broken) {
  test(`validateSpdx rejects: ${name}`, () => {
    const d = doc() as Record<string, any>;
    breakIt(d);
    const problems = validateSpdx(d);
    assert.ok(problems.some((p) => expected.test(p)), `expected ${expected} in ${JSON.stringify(problems)}`);
  });
}
