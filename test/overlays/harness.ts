/**
 * Builds distro models for overlay tests straight from small TOML files, the
 * way the config stage would hand them over (fields plus per-key positions),
 * so the overlay engine is tested without depending on the config loader.
 */
import { readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import TOML from '@iarna/toml';
import type { Component, DistroModel, OverlaySpec } from '../../src/config/model.js';
import type { SourceLocation } from '../../src/util/errors.js';

export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/overlays/', import.meta.url));
export const COMPONENTS = join(FIXTURES, 'components');
export const UPDATE_GOLDEN = process.env.STRATA_UPDATE_GOLDEN === '1';

const METADATA = new Set(['type', 'description', 'category', 'upstream-status']);

/** Positions of `[[overlays]]` tables and their keys (enough for the simple TOML the cases use). */
function overlayPositions(text: string, file: string): Array<{ at: SourceLocation; keys: Record<string, SourceLocation> }> {
  const out: Array<{ at: SourceLocation; keys: Record<string, SourceLocation> }> = [];
  text.split('\n').forEach((line, i) => {
    if (/^\s*\[\[overlays\]\]/.test(line)) out.push({ at: { file, line: i + 1, col: 1 }, keys: {} });
    const key = /^(\s*)([A-Za-z0-9_-]+)\s*=/.exec(line);
    if (key && out.length > 0) out.at(-1)!.keys[key[2]!] = { file, line: i + 1, col: key[1]!.length + 1 };
  });
  return out;
}

/** Overlays from a TOML file holding `[[overlays]]` tables; locations relative to FIXTURES. */
export function overlaysFrom(tomlPath: string): OverlaySpec[] {
  const text = readFileSync(tomlPath, 'utf8');
  const file = relative(FIXTURES, tomlPath);
  const positions = overlayPositions(text, file);
  const tables = ((TOML.parse(text) as { overlays?: Array<Record<string, unknown>> }).overlays ?? []);
  return tables.map((table, i) => {
    const fields = Object.fromEntries(Object.entries(table).filter(([k]) => !METADATA.has(k)));
    const str = (key: string): string | null => (typeof table[key] === 'string' ? (table[key] as string) : null);
    return {
      type: String(table.type ?? ''),
      fields: JSON.parse(JSON.stringify(fields)) as Record<string, unknown>,
      description: str('description'),
      category: str('category'),
      upstreamStatus: str('upstream-status'),
      location: positions[i]!.at,
      fieldLocations: positions[i]!.keys,
      index: i + 1,
    };
  });
}

export function componentAt(dir: string, overlays: OverlaySpec[], specFile = `${basename(dir)}.spec`): Component {
  return {
    name: basename(dir),
    specPath: join(dir, specFile),
    dir,
    overlays,
    definedAt: { file: 'components', line: 1, col: 1 },
    origin: 'glob',
    sourceHashes: {},
    arches: null,
  };
}

export function modelWith(components: Component[], root = FIXTURES): DistroModel {
  return {
    root,
    configFile: join(root, 'toolkit.config.toml'),
    files: [],
    distro: { name: 'test', version: '1', distTag: '.t1', vendor: 'test', arches: ['x86_64', 'aarch64'], sourceDateEpoch: 1767225600 },
    rpm: { macroFiles: [], luaDirs: [], rpmrc: null, defines: {} },
    components: Object.fromEntries(components.map((c) => [c.name, c])),
    build: {
      jobs: 1,
      sandbox: 'bubblewrap',
      buildRoot: { type: 'host', provides: [] },
      outDir: join(root, 'out'),
      cacheDir: join(root, '.cache'),
      lookaside: null,
      timeoutSeconds: 60,
      crossCheck: false,
    executor: 'local',
    farm: {},
    },
    graph: { providers: {}, cycleBreaks: [] },
    images: {},
    fingerprint: 'test',
  };
}
