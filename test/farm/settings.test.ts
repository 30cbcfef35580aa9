/** Connection settings, secret handling and naming: the parts of the farm that need no server. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describeConnection, farmConnectionSettings, redactUrl } from '../../src/farm/connection.js';
import { farmNames, farmNamespace, jobSubject, queueConsumer, queueFilter, rootRoute } from '../../src/farm/subjects.js';
import { farmWindow } from '../../src/farm/gate.js';
import { StrataError } from '../../src/util/errors.js';

const SECRET = 's3cr3t-value';

describe('farm connection settings', () => {
  test('credentials in a URL move into auth and never print', () => {
    const settings = farmConnectionSettings({ url: `nats://builder:${SECRET}@farm.example:4222,nats://farm2.example:4222` }, {});
    assert.deepEqual(settings.servers, ['nats://farm.example:4222', 'nats://farm2.example:4222']);
    assert.equal(settings.auth.kind, 'user');
    for (const shown of [JSON.stringify(settings), inspect(settings, { depth: 10 }), describeConnection(settings), String(settings.auth.kind === 'user' && settings.auth.password)]) {
      assert.ok(!shown.includes(SECRET), shown);
    }
    assert.equal(settings.auth.kind === 'user' && settings.auth.password.reveal(), SECRET);
    assert.equal(redactUrl(`nats://a:${SECRET}@h:1`), 'nats://***@h:1');
  });

  test('environment variables, one kind of credentials at a time, TLS pairs', () => {
    const fromEnv = farmConnectionSettings({}, { STRATA_NATS_URL: 'tls://farm:4222', STRATA_NATS_TOKEN: SECRET });
    assert.equal(fromEnv.auth.kind, 'token');
    assert.notEqual(fromEnv.tls, null, 'a tls:// URL asks for TLS');
    assert.equal(farmConnectionSettings({ url: 'farm:4222', credsFile: '/etc/strata/w.creds' }, {}).auth.kind, 'creds');
    assert.equal(farmConnectionSettings({ url: 'farm:4222' }, {}).servers[0], 'nats://farm:4222');
    assert.throws(() => farmConnectionSettings({ url: 'farm:4222', credsFile: '/x' }, { STRATA_NATS_TOKEN: 't' }), /more than one kind/);
    assert.throws(() => farmConnectionSettings({ url: 'farm:4222', tlsCert: '/c.pem' }, {}), /both its certificate and its key/);
    assert.throws(() => farmConnectionSettings({}, {}), (e: unknown) => e instanceof StrataError && e.kind === 'usage');
    assert.throws(() => farmConnectionSettings({ url: 'http://farm' }, {}), /unsupported scheme/);
  });
});

describe('farm names', () => {
  test('each distro version gets its own streams, buckets and subjects', () => {
    const a = farmNames(farmNamespace('strata-example', '1.0'));
    const b = farmNames(farmNamespace('strata-example', '2.0'));
    assert.equal(a.namespace, 'strata-example_1-0');
    assert.equal(a.jobStream, 'STRATA_STRATA_EXAMPLE_1_0_JOBS');
    for (const key of ['jobStream', 'resultStream', 'blobBucket', 'workerBucket', 'allJobs', 'allResults'] as const) assert.notEqual(a[key], b[key]);
    for (const name of [a.jobStream, a.resultStream, a.blobBucket, a.workerBucket]) assert.match(name, /^[A-Za-z0-9_-]+$/);
    assert.throws(() => farmNames('no spaces allowed'), /not a farm namespace/);
    assert.throws(() => farmNamespace('...', '1'), /cannot derive/);
  });

  test('queues per arch and build root, with filters that never overlap', () => {
    const host = rootRoute({ type: 'host', id: 'ABCDEF0123' });
    assert.equal(host, 'host-abcdef0123');
    assert.equal(rootRoute({ type: 'oci', id: 'whatever' }), 'imported');
    const names = farmNames('x_1');
    const subject = jobSubject(names, { arch: 'aarch64', route: host }, 'k1');
    assert.equal(subject, 'strata.x_1.jobs.aarch64.host-abcdef0123.k1');
    assert.equal(queueFilter(names, { arch: 'aarch64', route: host }), 'strata.x_1.jobs.aarch64.host-abcdef0123.*');
    assert.notEqual(queueConsumer({ arch: 'x86_64', route: host }), queueConsumer({ arch: 'aarch64', route: host }));
  });

  test('the dispatch window: the slots plus twice as many queued (staged and waiting), at least one job', () => {
    assert.equal(farmWindow(0), 1);
    assert.equal(farmWindow(4), 12);
    assert.equal(farmWindow(4, 60), 64);
  });
});
