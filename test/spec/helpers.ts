/** Test helpers: a DistroModel and RenderedComponents made directly from fixture spec files. */
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DistroModel } from '../../src/config/model.js';
import type { RenderedComponent } from '../../src/overlays/model.js';
import { sha256Hex } from '../../src/util/hash.js';

export const fixtures = (sub: string): string => fileURLToPath(new URL(`../../../test/fixtures/${sub}`, import.meta.url));

export async function renderedFromSpec(path: string, name = basename(path, '.spec')): Promise<RenderedComponent> {
  const text = await readFile(path, 'utf8');
  return { name, specFile: basename(path), baseSpecText: text, specText: text, files: [], effects: [], fingerprint: sha256Hex(text) };
}

/** Every `*.spec` directly in a folder, as rendered components named after the file. */
export async function renderedFromDir(dir: string): Promise<RenderedComponent[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.spec')).sort();
  return Promise.all(names.map((n) => renderedFromSpec(join(dir, n))));
}

export async function tempCache(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'strata-test-cache-'));
}

export function testModel(root: string, cacheDir: string, overrides: Partial<Pick<DistroModel, 'rpm' | 'graph'>> & { buildRootProvides?: string[] } = {}): DistroModel {
  return {
    root,
    configFile: join(root, 'toolkit.config.toml'),
    files: [],
    distro: { name: 'fixture', version: '1', distTag: '.fx1', vendor: 'fixture vendor', arches: ['x86_64', 'aarch64'], sourceDateEpoch: 1767225600 },
    rpm: overrides.rpm ?? { macroFiles: [], luaDirs: [], rpmrc: null, defines: {} },
    components: {},
    build: {
      jobs: 2,
      sandbox: 'bubblewrap',
      buildRoot: { type: 'host', provides: overrides.buildRootProvides ?? ['gcc', 'make'] },
      outDir: join(root, 'out'),
      cacheDir,
      lookaside: null,
      timeoutSeconds: 600,
      crossCheck: false,
    executor: 'local',
    farm: {},
    },
    graph: overrides.graph ?? { providers: {}, cycleBreaks: [] },
    images: {},
    fingerprint: 'test',
  };
}
