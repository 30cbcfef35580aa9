/**
 * A synthetic distro tree for the graph benchmark: N specs shaped like real
 * ones (subpackages, versioned and pkgconfig/cmake/file BuildRequires, rich
 * and conditional requirements, %bcond, %ifarch, a distro macro file with a
 * Lua macro, a few dependency cycles and unresolvable requirements), declared
 * with one glob. Deterministic: the same N gives the same tree.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom as random } from '../../src/util/prng.js';

const WORDS = ['core', 'util', 'net', 'xml', 'json', 'crypt', 'image', 'font', 'audio', 'video', 'compress', 'parse', 'render', 'shell', 'mail', 'db', 'http', 'text', 'math', 'gfx'];

interface Shape {
  name: string;
  /** CamelCase name for cmake(X) and perl(X::Y). */
  camel: string;
  version: string;
  devel: boolean;
  cmake: boolean;
  perl: boolean;
  python: boolean;
  doc: boolean;
  tool: boolean;
}

function shapeOf(i: number, rand: () => number): Shape {
  const word = WORDS[Math.floor(rand() * WORDS.length)]!;
  const name = `${word}${i.toString(36)}`;
  return {
    name,
    camel: `${word[0]!.toUpperCase()}${word.slice(1)}${i.toString(36).toUpperCase()}`,
    version: `${1 + Math.floor(rand() * 4)}.${Math.floor(rand() * 20)}.${Math.floor(rand() * 10)}`,
    devel: rand() < 0.7,
    cmake: rand() < 0.25,
    perl: rand() < 0.1,
    python: rand() < 0.15,
    doc: rand() < 0.3,
    tool: rand() < 0.5,
  };
}

/** One BuildRequires on an earlier (or, for cycles, later) component, in one of the forms real specs use. */
function requirementOn(dep: Shape, rand: () => number): string {
  const r = rand();
  if (dep.devel && r < 0.35) return `pkgconfig(${dep.name})${rand() < 0.4 ? ` >= ${dep.version.split('.')[0]}.0` : ''}`;
  if (dep.devel && r < 0.6) return `${dep.name}-devel${rand() < 0.3 ? ` >= ${dep.version}` : ''}`;
  // cmake and perl files ship in -devel.
  if (dep.devel && dep.cmake && r < 0.7) return `cmake(${dep.camel})`;
  if (dep.devel && dep.perl && r < 0.75) return `perl(${dep.camel}::Util)`;
  if (dep.python && r < 0.8) return `python3dist(${dep.name})`;
  if (dep.tool && r < 0.9) return `/usr/bin/${dep.name}-tool`;
  return dep.name;
}

function specText(s: Shape, requires: string[], conditional: string[], archOnly: string[]): string {
  const lines = [
    '%bcond_without tests',
    '%bcond_with docs',
    `%global sover ${s.version.split('.')[0]}`,
    '',
    `Name:           ${s.name}`,
    `Version:        ${s.version}`,
    'Release:        1%{?dist}',
    `Summary:        The ${s.name} library and tools`,
    'License:        MIT',
    `URL:            https://example.invalid/${s.name}`,
    'Source0:        %{url}/releases/%{name}-%{version}.tar.gz',
    'Source1:        %{name}.conf',
    'Patch0:         %{name}-fix-build.patch',
    'Patch1:         %{name}-%{bench_vendor_tag}-defaults.patch',
    '',
    'BuildRequires:  gcc',
    'BuildRequires:  make',
    'BuildRequires:  pkgconfig',
    ...requires.map((r) => `BuildRequires:  ${r}`),
    '%if %{with tests}',
    ...conditional.map((r) => `BuildRequires:  ${r}`),
    '%endif',
    '%if %{with docs}',
    'BuildRequires:  doxygen',
    '%endif',
    '%ifarch x86_64',
    ...archOnly.map((r) => `BuildRequires:  ${r}`),
    '%endif',
    '%if 0%{?bench_distro} >= 2',
    'BuildRequires:  (bench-hardening or gcc-plugin-annobin)',
    '%endif',
    '',
    '%description',
    `${s.name} does useful things. Built by %{bench_greeting}.`,
    '',
  ];
  if (s.devel) {
    lines.push('%package devel', 'Summary:        Development files for %{name}', 'Requires:       %{name}%{?_isa} = %{version}-%{release}', '', '%description devel', 'Headers and pkg-config file.', '');
  }
  if (s.doc) lines.push('%package doc', 'Summary:        Documentation for %{name}', 'BuildArch:      noarch', '', '%description doc', 'Documentation.', '');
  if (s.python) lines.push(`%package -n python3-${s.name}`, 'Summary:        Python bindings', '', `%description -n python3-${s.name}`, 'Bindings.', '');
  lines.push(
    '%prep',
    '%autosetup -p1',
    '',
    '%build',
    '%configure --disable-static',
    '%make_build',
    '',
    '%install',
    '%make_install',
    '',
    '%check',
    '%if %{with tests}',
    'make check',
    '%endif',
    '',
    '%files',
    '%license COPYING',
    '%doc README',
    '%config(noreplace) %{_sysconfdir}/%{name}.conf',
    '%{_libdir}/lib%{name}.so.%{sover}*',
  );
  if (s.tool) lines.push('%{_bindir}/%{name}-tool');
  if (s.devel) {
    lines.push('', '%files devel', '%{_includedir}/%{name}/', '%{_libdir}/lib%{name}.so', '%{_libdir}/pkgconfig/%{name}.pc');
    if (s.cmake) lines.push(`%{_libdir}/cmake/${s.camel}/${s.camel}Config.cmake`);
    if (s.perl) lines.push(`%{_datadir}/perl5/vendor_perl/${s.camel}/Util.pm`);
  }
  if (s.doc) lines.push('', '%files doc', '%{_docdir}/%{name}/');
  if (s.python) lines.push('', `%files -n python3-${s.name}`, `/usr/lib/python3.12/site-packages/${s.name}-%{version}.dist-info`, `/usr/lib/python3.12/site-packages/${s.name}/`);
  lines.push('', '%changelog', '* Thu Jan 01 2026 Bench <bench@example.invalid> - %{version}-1', '- Synthetic package.', '');
  return lines.join('\n');
}

export interface GeneratedTree {
  root: string;
  specs: number;
  /** Components whose BuildRequires point forward, closing cycles. */
  cycleMembers: number;
}

/** Writes toolkit.config.toml, a distro macro file and `count` specs below `root`. */
export async function generateTree(root: string, count: number, seed = 20260101): Promise<GeneratedTree> {
  const rand = random(seed);
  const shapes = Array.from({ length: count }, (_, i) => shapeOf(i, rand));
  await mkdir(join(root, 'macros'), { recursive: true });
  await writeFile(
    join(root, 'toolkit.config.toml'),
    [
      '[distro]',
      'name = "bench"',
      'version = "2"',
      'dist-tag = ".bn2"',
      'vendor = "bench"',
      'arches = ["x86_64", "aarch64"]',
      'source-date-epoch = 1767225600',
      '',
      '[rpm]',
      'macro-files = ["macros/macros.bench"]',
      'defines = { bench_distro = "2" }',
      '',
      '[[component-globs]]',
      'path = "specs/*/*.spec"',
      '',
      '[build]',
      'cache-dir = ".strata-cache"',
      '',
      '[build.build-root]',
      'type = "host"',
      'provides = ["gcc", "make", "pkgconfig", "doxygen", "bench-hardening", "/bin/sh"]',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(root, 'macros/macros.bench'),
    ['%bench_vendor_tag bench', '%bench_greeting %{lua: print(string.upper(rpm.expand("%{vendor}")))}', ''].join('\n'),
  );
  // About one spec in 200 starts a cycle of two or three components: the first
  // needs the last, which (through the middle one, if any) needs the first.
  const extra = new Map<number, string[]>();
  const need = (from: number, to: number): void => void extra.set(from, [...(extra.get(from) ?? []), shapes[to]!.name]);
  let cycleMembers = 0;
  for (let i = 0; i + 3 < count; i += 1) {
    if (rand() >= 0.005) continue;
    const length = rand() < 0.5 ? 2 : 3;
    for (let k = 0; k < length; k++) need(i + k, i + ((k + 1) % length));
    cycleMembers += length;
    i += length;
  }
  for (const [i, s] of shapes.entries()) {
    const deps = new Set<string>(extra.get(i) ?? []);
    const earlier = (): Shape => shapes[Math.floor(Math.pow(rand(), 2) * i)]!;
    if (i > 0) {
      for (let n = Math.floor(rand() * 6); n > 0; n--) deps.add(requirementOn(earlier(), rand));
      if (rand() < 0.1) deps.add(`(${earlier().name}-devel or ${earlier().name})`);
    }
    if (rand() < 0.01) deps.add(`lib${s.name}-missing-devel`);
    const conditional = i > 0 && rand() < 0.3 ? [`${earlier().name}`] : [];
    const archOnly = i > 0 && rand() < 0.1 ? [`${earlier().name}`] : [];
    const dir = join(root, 'specs', s.name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${s.name}.spec`), specText(s, [...deps], conditional, archOnly));
  }
  return { root, specs: count, cycleMembers };
}
