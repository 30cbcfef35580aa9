/** The spec model's reading of rpm syntax, and the small parsers beside it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerPackage, parseSpec, sectionTags, sectionsNamed, packageFullName, sectionInPackage } from '../../src/overlays/spec/model.js';
import { parseAutopatch, parsePatchLine, patchTags, nextPatchNumber } from '../../src/overlays/spec/patches.js';
import { globToRegExp, isConfinedRelative, matchGlob } from '../../src/overlays/files/glob.js';
import { compileRegex, regexProblem, replaceLiteral } from '../../src/overlays/regex.js';

const SPEC = `%global srcname bar
%global _description %{expand:
Name: not-a-tag
%package not-a-section}
Name:           py%{srcname}
Version:        1
%define long_macro \\
Release: not-a-tag \\
%package not-a-section
Release:        1
%description %_description

%package -n python3-%{srcname}
Summary:        x

%files -f %{name}.lang -n python3-%{srcname}
%ldconfig_scriptlets libs
%post -p /sbin/ldconfig libs
%triggerin -n other -- glibc
%changelog
`;

test('logical lines: %{expand:…} and backslash continuations hide what looks like tags, headers and conditionals', () => {
  const model = parseSpec(SPEC);
  const main = model.sections[0]!;
  assert.deepEqual(sectionTags(model, main).map((t) => `${t.tag}=${t.value}`), ['Name=py%{srcname}', 'Version=1', 'Release=1']);
  assert.deepEqual(model.sections.map((s) => s.name), ['', '%description', '%package', '%files', '%ldconfig_scriptlets', '%post', '%triggerin', '%changelog']);
  assert.ok(model.logical.every((l) => l.conditional === null));
  assert.equal(model.mainName, 'pybar');
});

test('conditionals count on every physical line, as rpm reads them, even inside a continued line', () => {
  // rpmspec 4.18 rejects both of these with "Unclosed %if" when the %endif is missing.
  const model = parseSpec('Name: a\n%global d %{expand:\nx\n%if 0\nName: inside\n%endif\ny}\n%build\n./configure \\\n%if 1\n  --x \\\n%endif\n  --y\n');
  assert.deepEqual(
    model.logical.filter((l) => l.conditional !== null).map((l) => `${l.start + 1}:${l.conditional}`),
    ['4:if', '6:endif', '10:if', '12:endif'],
  );
  assert.deepEqual(sectionTags(model, model.sections[0]!).map((t) => t.tag), ['Name'], 'a line continuing a macro body is not a tag');
  assert.deepEqual(model.sections.map((s) => s.name), ['', '%build']);
});

test('section headers name their package through -n, a plain word, or not at all', () => {
  assert.deepEqual(headerPackage('%files -f %{name}.lang devel'), { word: 'devel', fullName: false });
  assert.deepEqual(headerPackage('%post -p /sbin/ldconfig libs'), { word: 'libs', fullName: false });
  assert.deepEqual(headerPackage('%description -n python3-foo'), { word: 'python3-foo', fullName: true });
  assert.deepEqual(headerPackage('%triggerin -n other -- glibc'), { word: 'other', fullName: true });
  assert.deepEqual(headerPackage('%triggerun -- glibc'), null);
  assert.equal(headerPackage('%files'), null);
  assert.equal(headerPackage('%description %_description'), null, 'a macro argument is not a package');
  assert.deepEqual(headerPackage('%description -n python3-%{srcname} %_description'), { word: 'python3-%{srcname}', fullName: true });
  const model = parseSpec(SPEC);
  const files = sectionsNamed(model, '%files', 'python3-bar');
  assert.equal(files.length, 1);
  assert.equal(packageFullName(model, files[0]!.pkg), 'python3-bar');
  assert.ok(sectionInPackage(model, model.sections.find((s) => s.name === '%post')!, 'pybar-libs'));
  assert.ok(sectionInPackage(model, model.sections.find((s) => s.name === '%ldconfig_scriptlets')!, 'libs'));
});

test('simple macro expansion resolves the names packages are addressed by', () => {
  const model = parseSpec('%global srcname foo\nName: %{?scl_prefix}python-%{srcname}\n%package -n %{?scl_prefix}python3-%srcname\nSummary: x\n');
  assert.equal(model.mainName, 'python-foo');
  assert.ok(sectionInPackage(model, model.sections[1]!, 'python3-foo'));
});

test('%patch lines in every spelling rpm accepts', () => {
  assert.deepEqual(parsePatchLine('%patch3 -p1'), { numbers: [3], strip: '-p1' });
  assert.deepEqual(parsePatchLine('%patch -P 3 -p1 -b .orig'), { numbers: [3], strip: '-p1' });
  assert.deepEqual(parsePatchLine('%patch -P3 -p 2'), { numbers: [3], strip: '-p2' });
  assert.deepEqual(parsePatchLine('%patch 4 -p0 -F 3'), { numbers: [4], strip: '-p0' });
  assert.deepEqual(parsePatchLine('%patch -p1'), { numbers: [0], strip: '-p1' });
  assert.equal(parsePatchLine('%patchlist'), null);
  assert.equal(parsePatchLine('%{patch1}'), null);
});

test('%autopatch ranges, lists and strip options', () => {
  const covers = (line: string) => [0, 5, 99, 100, 101].filter((n) => parseAutopatch(line).covers(n));
  assert.deepEqual(covers('%autopatch -p1'), [0, 5, 99, 100, 101]);
  assert.deepEqual(covers('%autopatch -p1 -M 99'), [0, 5, 99]);
  assert.deepEqual(covers('%autopatch -m100 -p1'), [100, 101]);
  assert.deepEqual(covers('%autopatch -p1 5 100'), [5, 100]);
  assert.equal(parseAutopatch('%autopatch -p 2 -M 9').strip, '-p2');
  assert.equal(parseAutopatch('%autopatch').strip, null);
});

test('a bare Patch: tag is numbered one above the highest so far, as rpm 4.18 numbers it', () => {
  // rpmspec's Lua `patch_nums` for this preamble: 0 1 7 2 8.
  const model = parseSpec('Name: a\nPatch: a.patch\nPatch: b.patch\nPatch7: c.patch\nPatch2: e.patch\nPatch: d.patch\n');
  assert.deepEqual(patchTags(model).map((t) => t.number), [0, 1, 7, 2, 8]);
  assert.equal(nextPatchNumber(model), 9);
  assert.equal(nextPatchNumber(parseSpec('Name: a\n')), 0);
});

test('globs: * stays in a folder, ** crosses them, braces and classes work; paths are confined', () => {
  const paths = ['a.patch', 'sub/b.patch', 'sub/deep/c.patch', 'x.c', 'y.h'];
  assert.deepEqual(matchGlob('*.patch', paths), ['a.patch']);
  assert.deepEqual(matchGlob('**/*.patch', paths), ['a.patch', 'sub/b.patch', 'sub/deep/c.patch']);
  assert.deepEqual(matchGlob('sub/**', paths), ['sub/b.patch', 'sub/deep/c.patch']);
  assert.deepEqual(matchGlob('*.{c,h}', paths), ['x.c', 'y.h']);
  assert.deepEqual(matchGlob('[xy].?', paths), ['x.c', 'y.h']);
  assert.ok(globToRegExp('a.b').test('a.b') && !globToRegExp('a.b').test('aXb'));
  assert.ok(isConfinedRelative('src/x.c'));
  for (const bad of ['../x', 'a/../../x', '/etc/passwd', '', 'a/..']) assert.equal(isConfinedRelative(bad), false, bad);
});

test('regexes: RE2 flag groups and named groups, literal replacement with a match count', () => {
  assert.deepEqual(replaceLiteral('Foo foo', compileRegex('(?i)foo'), '$1'), { text: '$1 $1', count: 2 });
  assert.equal(compileRegex('(?P<n>x)').source, '(?<n>x)');
  assert.deepEqual(replaceLiteral('a\nb\n', compileRegex('(?m)^'), '> '), { text: '> a\n> b\n> ', count: 3 });
  assert.deepEqual(replaceLiteral('a \t b', compileRegex('[[:space:]]+'), ' '), { text: 'a b', count: 1 });
  assert.deepEqual(replaceLiteral('x1y22', compileRegex('[^[:digit:]]'), '.'), { text: '.1.22', count: 2 });
  assert.deepEqual(replaceLiteral('ab\nab', compileRegex('\\Aab'), 'X'), { text: 'X\nab', count: 1 });
  assert.deepEqual(replaceLiteral('ab\nab', compileRegex('ab\\z'), 'X'), { text: 'ab\nX', count: 1 });
  assert.deepEqual(replaceLiteral('\\A', compileRegex('\\\\A'), 'x'), { text: 'x', count: 1 }, 'an escaped backslash stays one');
  assert.deepEqual(replaceLiteral('a]b', compileRegex('[]]'), '-'), { text: 'a-b', count: 1 });
  assert.match(regexProblem('[[:nope:]]') ?? '', /unknown POSIX class \[:nope:\]/);
  assert.deepEqual(replaceLiteral('a.b*c a.b*c', compileRegex('\\Qa.b*c\\E$'), 'x'), { text: 'a.b*c x', count: 1 });
  assert.match(regexProblem('\\pL') ?? '', /Unicode classes/);
});
