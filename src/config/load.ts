/**
 * Loading a project: find toolkit.config.toml, read it and its includes, merge,
 * validate against the schema, resolve paths and components. Every problem is
 * collected and reported at once (StrataErrors), each at its FILE:LINE:COL.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StrataError, StrataErrors } from '../util/errors.js';
import type { DistroModel } from './model.js';
import { findProjectConfig } from './find-project.js';
import { displayPath, isTable } from './config-file.js';
import { readIncludeTree } from './includes.js';
import { MergedDocument } from './merge.js';
import { NAME_PATTERN, configSchema, entrySchemas, type RawConfig } from './schema.js';
import { numberKindErrors, issueErrors } from './issues.js';
import { ProjectPaths } from './project-paths.js';
import { resolveComponents } from './components.js';
import { buildSettings, distroSettings, graphSettings, imageDefinitions, rpmSettings } from './settings.js';
import { modelFingerprint } from './fingerprint.js';

export interface LoadOptions {
  /** Folder to search for toolkit.config.toml from (upward). */
  cwd: string;
  /** Explicit config file; overrides the search. */
  configPath?: string;
  /** Folder that file names in messages are relative to (default: the process's cwd). */
  displayBase?: string;
}

export async function loadProject(options: LoadOptions): Promise<DistroModel> {
  const displayBase = options.displayBase ?? process.cwd();
  const configFile = options.configPath === undefined ? findProjectConfig(options.cwd) : resolve(options.cwd, options.configPath);
  if (!existsSync(configFile)) {
    throw new StrataError(`config file ${displayPath(configFile, displayBase)} does not exist`, { hint: 'name an existing toolkit.config.toml with --config' });
  }
  const root = dirname(configFile);
  const tree = await readIncludeTree(configFile, root, displayBase);
  const errors = [...tree.errors];
  const fail = (): never => {
    throw new StrataErrors(inFileOrder(errors, tree.files.map((file) => file.display)));
  };
  const [first] = tree.files;
  // A file that could not be read would make every check after this one report
  // the settings it holds as missing: the problems with the files come first.
  if (first === undefined || errors.length > 0) return fail();

  const merged = new MergedDocument(first);
  for (const file of tree.files) errors.push(...merged.add(file));
  const parsed = configSchema.safeParse(merged.doc);
  if (!parsed.success) for (const issue of parsed.error.issues) errors.push(...issueErrors(issue, merged, configSchema));
  errors.push(...numberKindErrors(merged, configSchema));
  // With schema errors, the sections that are valid on their own are still
  // checked further, so that one run reports every problem it can.
  const { config, invalid } = parsed.success ? { config: parsed.data, invalid: new Set<string>() } : validParts(merged.doc);

  const paths = new ProjectPaths(root, merged, errors);
  const distro = config.distro && distroSettings(config.distro, paths);
  const rpm = config.rpm && rpmSettings(config.rpm, paths);
  const globs = config['component-globs'];
  const stanzas = config.components;
  const components = distro && globs && stanzas ? resolveComponents(globs, stanzas, distro.arches, merged, paths) : undefined;
  const build = config.build && buildSettings(config.build, paths);
  const graph = config.graph && components && graphSettings(config.graph, components, invalid, paths, merged);
  const images = config.images && distro && imageDefinitions(config.images, distro.arches, paths, merged);
  if (errors.length > 0 || !distro || !rpm || !components || !build || !graph || !images) return fail();

  const model = { root, configFile, files: tree.files.map((file) => file.path), distro, rpm, components, build, graph, images };
  return { ...model, fingerprint: modelFingerprint(model) };
}

/**
 * What can still be checked when the document as a whole is invalid: each
 * top-level section that passes the schema by itself, and of [components] and
 * [images] each entry that does. `invalid` names the components left out, so
 * that references to them are not reported as unknown.
 */
function validParts(doc: Record<string, unknown>): { config: Partial<RawConfig>; invalid: Set<string> } {
  const config: Record<string, unknown> = {};
  const invalid = new Set<string>();
  for (const [key, schema] of Object.entries(configSchema.shape)) {
    const result = schema.safeParse(doc[key]);
    const table = doc[key];
    if (result.success) {
      config[key] = result.data;
    } else if ((key === 'components' || key === 'images') && isTable(table)) {
      const entries = Object.entries(table).flatMap(([name, entry]) => {
        const parsed = entrySchemas[key].safeParse(entry);
        if (parsed.success && NAME_PATTERN.test(name)) return [[name, parsed.data] as const];
        if (key === 'components') invalid.add(name);
        return [];
      });
      config[key] = Object.fromEntries(entries);
    }
  }
  return { config: config as Partial<RawConfig>, invalid };
}

/** Errors sorted by file (in merge order), line and column; duplicates dropped. */
function inFileOrder(errors: StrataError[], files: string[]): StrataError[] {
  const rank = (error: StrataError): [number, number, number] => {
    const file = error.location ? files.indexOf(error.location.file) : -1;
    return [file === -1 ? files.length : file, error.location?.line ?? 0, error.location?.col ?? 0];
  };
  const seen = new Set<string>();
  return errors
    .map((error) => ({ error, key: rank(error) }))
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2])
    .map(({ error }) => error)
    .filter((error) => {
      const id = `${error.location?.file}:${error.location?.line}:${error.location?.col}:${error.message}`;
      return seen.has(id) ? false : (seen.add(id), true);
    });
}
