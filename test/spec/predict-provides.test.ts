import { test } from 'node:test';
import assert from 'node:assert/strict';
import { predictProvides } from '../../src/spec/predict-provides.js';

const file = (path: string, flags: { dir?: boolean; config?: boolean; ghost?: boolean } = {}) => ({ path, dir: false, config: false, ghost: false, doc: false, ...flags });

// [path, predicted provides]
const CASES: Array<[string, string[]]> = [
  ['/usr/lib64/pkgconfig/glib-2.0.pc', ['pkgconfig(glib-2.0) = 2.1']],
  ['/usr/share/pkgconfig/xproto.pc', ['pkgconfig(xproto) = 2.1']],
  ['/usr/lib64/pkgconfig/*.pc', []],
  ['/usr/lib64/cmake/Qt5Core/Qt5CoreConfig.cmake', ['cmake(Qt5Core) = 2.1', 'cmake(qt5core) = 2.1']],
  ['/usr/share/cmake/zstd/zstd-config.cmake', ['cmake(zstd) = 2.1']],
  ['/usr/lib64/cmake/Foo/FooConfigVersion.cmake', []],
  ['/usr/share/perl5/vendor_perl/Foo/Bar.pm', ['perl(Foo::Bar)']],
  ['/usr/lib64/perl5/vendor_perl/XML/Parser/Expat.pm', ['perl(XML::Parser::Expat)']],
  ['/usr/lib/python3.12/site-packages/Foo_Bar-1.0.dist-info', ['python3.12dist(foo-bar) = 2.1', 'python3dist(foo-bar) = 2.1']],
  ['/usr/lib64/libz.so.1.3.1', ['libz.so.1()(64bit)']],
  ['/usr/lib64/libz.so.1*', ['libz.so.1()(64bit)']],
  ['/usr/lib64/libz.so', []],
  ['/usr/bin/tool', []],
];

test('provides predicted from file names, one rule per rpm generator', () => {
  for (const [path, expected] of CASES) {
    const got = predictProvides({ name: 'p', evr: '2.1-1', version: '2.1', arch: 'x86_64', files: [file(path)] });
    assert.deepEqual(got.map((d) => d.raw), expected, path);
  }
});

test('config(NAME) for packages with %config files; nothing from %dir or %ghost entries; no sonames for noarch', () => {
  const got = predictProvides({ name: 'p', evr: '1:2.1-1', version: '2.1', arch: 'x86_64', files: [file('/etc/p.conf', { config: true }), file('/usr/lib64/pkgconfig/x.pc', { ghost: true })] });
  assert.deepEqual(got.map((d) => d.raw), ['config(p) = 1:2.1-1']);
  assert.deepEqual(predictProvides({ name: 'p', evr: '1-1', version: '1', arch: 'noarch', files: [file('/usr/lib64/libx.so.1')] }), []);
});
