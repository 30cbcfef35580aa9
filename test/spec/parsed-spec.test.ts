import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PREP_SENTINEL, parseFilesLine, readParsedSpec, specForParse, splitParsedOutput, END_OF_SPEC_MARKER } from '../../src/spec/parsed-spec.js';

// [%files line, paths, flags of the first entry]
const FILE_LINES: Array<[string, string[], Partial<Record<'dir' | 'config' | 'ghost' | 'doc', boolean>>]> = [
  ['/usr/bin/x', ['/usr/bin/x'], {}],
  ['%dir /usr/share/x/', ['/usr/share/x'], { dir: true }],
  ['%attr(0755, root, root) %config(noreplace) /etc/x.conf', ['/etc/x.conf'], { config: true }],
  ['%ghost %attr(0644,root,root) /run/x.pid', ['/run/x.pid'], { ghost: true }],
  ['%license COPYING', [], {}],
  ['%doc README /usr/share/doc/x/extra', ['/usr/share/doc/x/extra'], { doc: true }],
  ['%defattr(-,root,root,-)', [], {}],
  ['%lang(de) "/usr/share/locale/de/with space.mo"', ['/usr/share/locale/de/with space.mo'], {}],
  ['/usr/lib64/a.so.1 /usr/lib64/b.so.1', ['/usr/lib64/a.so.1', '/usr/lib64/b.so.1'], {}],
  ['%{python3_sitelib}/x', [], {}],
  ['# a comment', [], {}],
];

test('%files lines: directives stripped, absolute paths kept', () => {
  for (const [line, paths, flags] of FILE_LINES) {
    const { entries } = parseFilesLine(line);
    assert.deepEqual(entries.map((e) => e.path), paths, line);
    for (const [flag, value] of Object.entries(flags)) assert.equal(entries[0]![flag as 'dir'], value, `${line}: ${flag}`);
  }
  assert.deepEqual(parseFilesLine('%exclude /usr/bin/debug').excluded, ['/usr/bin/debug']);
});

test('sources and patches are numbered as rpm numbers them', () => {
  const parsed = readParsedSpec(
    ['Name: n', 'Source: https://x.invalid/a-1.tar.gz', 'Source5: b', 'Source: c', 'Patch: p0', 'Patch3: p3', 'Patch: p4', '%description', 'Source: not-a-tag', '%sourcelist', 'd', '%files', '/x'].join('\n'),
    'n',
  );
  assert.deepEqual(parsed.sources, [
    { index: 0, name: 'a-1.tar.gz', url: 'https://x.invalid/a-1.tar.gz' },
    { index: 5, name: 'b', url: 'b' },
    { index: 6, name: 'c', url: 'c' },
    { index: 7, name: 'd', url: 'd' },
  ]);
  assert.deepEqual(parsed.patches.map((p) => p.index), [0, 3, 4]);
});

test('%files sections map to package names (-n, suffix, -f lists)', () => {
  const parsed = readParsedSpec(['%files', '/a', '%files devel', '/b', '%files -n python3-x -f x.lst', '/c', '%files devel', '/d'].join('\n'), 'x');
  assert.deepEqual([...parsed.files.keys()], ['x', 'x-devel', 'python3-x']);
  assert.deepEqual(parsed.files.get('x-devel')!.map((e) => e.path), ['/b', '/d']);
  assert.deepEqual(parsed.fileLists.get('python3-x'), ['x.lst']);
});

test('the -P copy protects the section after %prep and marks the end of the spec', () => {
  const text = specForParse('Name: x\n%prep\n%setup -q\n%files\n/a\n');
  assert.equal(text, `Name: x\n%prep\n%setup -q\n${PREP_SENTINEL}\n%files\n/a\n${END_OF_SPEC_MARKER}\n`);
  // No section after %prep: the sentinel goes before the end marker.
  assert.match(specForParse('Name: x\n%prep\ntrue'), new RegExp(`true\\n${PREP_SENTINEL.replace(/[%-]/g, '\\$&')}\\n`));
  assert.deepEqual(splitParsedOutput(`a\n${END_OF_SPEC_MARKER}\nb\n${END_OF_SPEC_MARKER}\n`, 2), ['a', 'b']);
  assert.equal(splitParsedOutput(`a\n${END_OF_SPEC_MARKER}\n`, 2), null);
});
