import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../../src/config/load.js';
import { StrataErrors, StrataError } from '../../src/util/errors.js';

const GOOD = fileURLToPath(new URL('../../../test/fixtures/config/good/', import.meta.url)).replace(/\/$/, '');
const REPO = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const at = (file: string, line: number, col: number) => ({ file, line, col });

function copyOf(dir: string): string {
  const target = join(mkdtempSync(join(tmpdir(), 'strata-config-')), basename(dir));
  cpSync(dir, target, { recursive: true });
  return target;
}

test('the fixture project merges its includes in order', async () => {
  const model = await loadProject({ cwd: GOOD, displayBase: GOOD });
  assert.equal(model.root, GOOD);
  assert.deepEqual(
    model.files.map((file) => file.slice(GOOD.length + 1)),
    ['toolkit.config.toml', 'conf/10-components.toml', 'extra/late.toml', 'conf/20-images.toml', 'site.toml'],
  );
  assert.deepEqual(
    model.graph.cycleBreaks.map((entry) => [entry.component, entry.requirement, entry.from, entry.location]),
    [
      ['alpha', 'beta-devel', 'build-root', at('toolkit.config.toml', 24, 1)],
      ['beta', 'alpha-tools', 'bootstrap', at('extra/late.toml', 4, 1)],
    ],
  );
  assert.deepEqual(model.rpm.defines, { first: '1', late: 'yes' });
  assert.deepEqual(
    model.rpm.macroFiles.map((file) => file.slice(GOOD.length + 1)),
    ['macros/10-base.macros', 'macros/20-more.macros', 'macros/zz-last'],
  );
  assert.deepEqual(model.rpm.luaDirs, [join(GOOD, 'lua')]);
  assert.deepEqual(model.graph.providers, { 'libalpha.so.1()(64bit)': 'alpha' });
});

test('components come from globs (minus excludes) and stanzas, which refine them', async () => {
  const model = await loadProject({ cwd: GOOD, displayBase: GOOD });
  assert.deepEqual(Object.keys(model.components), ['alpha', 'beta', 'gamma']);
  const { alpha, beta, gamma } = model.components;
  assert.ok(alpha && beta && gamma);
  assert.equal(beta.specPath, join(GOOD, 'specs/beta/beta.spec'));
  assert.equal(beta.dir, join(GOOD, 'specs/beta'));
  assert.equal(beta.origin, 'glob');
  assert.deepEqual(beta.definedAt, at('toolkit.config.toml', 17, 8));
  assert.equal(beta.refinedAt, undefined);
  assert.equal(beta.arches, null);

  assert.equal(alpha.origin, 'glob');
  assert.deepEqual(alpha.refinedAt, at('conf/10-components.toml', 3, 1));
  assert.deepEqual(alpha.arches, ['x86_64']);
  assert.deepEqual(alpha.sourceHashes, { 'alpha-1.0.tar.gz': '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' });
  assert.deepEqual(alpha.overlays, [
    {
      type: 'spec-set-tag',
      fields: { tag: 'Release', value: '2%{?dist}' },
      description: 'Bump the release',
      category: null,
      upstreamStatus: null,
      location: at('conf/10-components.toml', 7, 1),
      fieldLocations: { type: at('conf/10-components.toml', 8, 1), tag: at('conf/10-components.toml', 10, 1), value: at('conf/10-components.toml', 11, 1) },
      index: 1,
      configFile: join(GOOD, 'conf/10-components.toml'),
    },
    {
      type: 'future-type',
      fields: { lines: ['a', 'b'], options: { deep: true }, since: '2026-01-01T00:00:00.000Z' },
      description: null,
      category: null,
      upstreamStatus: null,
      location: at('conf/10-components.toml', 13, 1),
      fieldLocations: {
        type: at('conf/10-components.toml', 14, 1),
        lines: at('conf/10-components.toml', 15, 1),
        options: at('conf/10-components.toml', 16, 1),
        since: at('conf/10-components.toml', 17, 1),
      },
      index: 2,
      configFile: join(GOOD, 'conf/10-components.toml'),
    },
  ]);

  assert.equal(gamma.origin, 'stanza');
  assert.equal(gamma.specPath, join(GOOD, 'other/gamma.spec'));
  assert.deepEqual(gamma.definedAt, at('site.toml', 1, 1));
  assert.deepEqual(gamma.overlays[0]?.location, at('site.toml', 3, 14));
  assert.equal(gamma.overlays[0]?.configFile, join(GOOD, 'site.toml'));
  assert.deepEqual(gamma.overlays[0]?.fieldLocations, { type: at('site.toml', 3, 16), tag: at('site.toml', 3, 39), value: at('site.toml', 3, 55) });
});

test('defaults from the schema fill what the files leave out', async () => {
  const model = await loadProject({ cwd: GOOD, displayBase: GOOD });
  assert.deepEqual(model.distro, { name: 'fixture', version: '2', distTag: '.fx2', vendor: '', arches: ['x86_64', 'aarch64'], sourceDateEpoch: 1700000000 });
  assert.deepEqual(model.build, {
    jobs: 4,
    sandbox: 'bubblewrap',
    buildRoot: { type: 'host', provides: [] },
    outDir: join(GOOD, 'out'),
    cacheDir: join(GOOD, '.strata-cache'),
    lookaside: 'https://sources.example.org/{name}/{sha256}',
    timeoutSeconds: 3600,
    crossCheck: false,
    executor: 'local',
    farm: {},
  });
  const { definedAt, ...image } = model.images.base!;
  assert.deepEqual(definedAt, at('conf/20-images.toml', 1, 1));
  assert.deepEqual(image, {
    name: 'base',
    packages: ['alpha', 'beta'],
    extraRepos: [],
    filesystem: 'erofs',
    verity: true,
    layout: 'root',
    minimise: { docs: false, locales: [], remove: [] },
    init: '/sbin/init',
    cmdline: [],
    formats: ['raw'],
    signing: null,
    perArch: { aarch64: { addPackages: ['gamma'], removePackages: [] } },
    bootMarker: '',
  });
});

test('the project is found from a subfolder, or named by configPath', async () => {
  const fromSub = await loadProject({ cwd: join(GOOD, 'specs/alpha'), displayBase: GOOD });
  const named = await loadProject({ cwd: '/', configPath: join(GOOD, 'toolkit.config.toml'), displayBase: GOOD });
  assert.equal(fromSub.configFile, join(GOOD, 'toolkit.config.toml'));
  assert.equal(named.fingerprint, fromSub.fingerprint);
  await assert.rejects(loadProject({ cwd: GOOD, configPath: 'nope.toml' }), (error: unknown) => error instanceof StrataError && /does not exist/.test(error.message));
});

test('the fingerprint does not depend on where the project or the caller is', async (t) => {
  const a = copyOf(GOOD);
  const b = copyOf(GOOD);
  t.after(() => [a, b].forEach((dir) => rmSync(join(dir, '..'), { recursive: true, force: true })));
  const here = await loadProject({ cwd: GOOD, displayBase: GOOD });
  const there = await loadProject({ cwd: a, displayBase: '/' });
  assert.equal(there.fingerprint, here.fingerprint);
  assert.match(here.fingerprint, /^[0-9a-f]{64}$/);

  const site = join(b, 'site.toml');
  writeFileSync(site, readFileSync(site, 'utf8').replace('"Fixture"', '"Other"'));
  const changed = await loadProject({ cwd: b, displayBase: b });
  assert.notEqual(changed.fingerprint, here.fingerprint);
});

test('file names in messages are relative to the display folder when inside it, else absolute', async (t) => {
  const dir = copyOf(GOOD);
  t.after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  writeFileSync(join(dir, 'site.toml'), '[graph]\nproviders = { x = "nosuch" }\n');
  const messages = async (displayBase: string): Promise<string[]> => {
    try {
      await loadProject({ cwd: dir, displayBase });
    } catch (error) {
      assert.ok(error instanceof StrataErrors);
      return error.errors.map((e) => `${e.location?.file}:${e.location?.line}:${e.location?.col}`);
    }
    return assert.fail('loaded');
  };
  assert.deepEqual(await messages(dir), ['site.toml:2:19']);
  assert.deepEqual(await messages(join(dir, 'conf')), [join(dir, 'site.toml') + ':2:19']);
});

test('a file two others include is read once, at its first place in merge order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-diamond-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files: Record<string, string> = {
    'toolkit.config.toml': 'include = ["a.toml", "b.toml"]\n[distro]\nname = "d"\nversion = "1"\nsource-date-epoch = 0\n',
    'a.toml': 'include = ["common.toml"]\n[[graph.cycle-breaks]]\ncomponent = "x"\nrequirement = "from-a"\n',
    'b.toml': 'include = ["common.toml"]\n[[graph.cycle-breaks]]\ncomponent = "x"\nrequirement = "from-b"\n',
    'common.toml': '[[graph.cycle-breaks]]\ncomponent = "x"\nrequirement = "from-common"\n[components.x]\nspec = "x.spec"\n',
    'x.spec': '',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const model = await loadProject({ cwd: dir, displayBase: dir });
  assert.deepEqual(model.files.map((file) => basename(file)), ['toolkit.config.toml', 'a.toml', 'common.toml', 'b.toml']);
  assert.deepEqual(model.graph.cycleBreaks.map((entry) => entry.requirement), ['from-a', 'from-common', 'from-b']);
});

test("the repository's own toolkit.config.toml loads", async () => {
  const model = await loadProject({ cwd: REPO });
  assert.equal(model.configFile, join(REPO, 'toolkit.config.toml'));
  assert.ok(model.distro.name !== '' && model.distro.arches.length > 0);
  const components = Object.values(model.components);
  assert.ok(components.length > 0, 'the example distro declares components');
  for (const component of components) {
    assert.ok(existsSync(component.specPath), component.specPath);
    assert.equal(basename(component.specPath, '.spec'), component.name);
  }
  assert.ok(Object.keys(model.images).length > 0);
});
