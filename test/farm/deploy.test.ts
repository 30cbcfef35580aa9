/**
 * Keeps deploy/ honest: every flag the systemd unit and the Kubernetes
 * Deployment pass to `strata worker` exists and has a valid value, the KEDA
 * ScaledObject watches the stream and consumer that Deployment's workers
 * actually use, the nats-server configs are valid for nats-server itself, and
 * the single-server config runs a farm with password credentials that never
 * show up in any output.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, readdir, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import worker from '../../src/cli/worker.js';
import type { CommandRunner } from '../../src/cli/command.js';
import { ARCHES } from '../../src/config/model.js';
import { WORKER_BACKENDS } from '../../src/farm/backends.js';
import { FARM_ENV } from '../../src/farm/connection.js';
import { NAMESPACE_ENV } from '../../src/farm/cli-options.js';
import { farmNames, queueConsumer } from '../../src/farm/subjects.js';
import { CLI, startNatsServer, startWorker, stopWorker, SYNTHETIC_ROOT } from './harness.js';
import { parseYamlDocuments, type YamlValue } from './yaml-subset.js';

const run = promisify(execFile);
const DEPLOY = resolve(fileURLToPath(new URL('../../../deploy', import.meta.url)));

/** The long options `strata worker` defines (with their aliases), read from the command's own builder. */
function workerFlags(): Set<string> {
  const module = worker((async () => undefined) as unknown as CommandRunner);
  // getOptions() is yargs' own record of the options a builder defined (not in its typings).
  const builder = module.builder as unknown as (y: ReturnType<typeof yargs>) => { getOptions(): { key: Record<string, unknown> } };
  return new Set(Object.keys(builder(yargs([])).getOptions().key));
}

/** `--flag value` pairs and bare `--flag`s from an argument list, checked against the worker's options. */
function checkWorkerArgs(args: string[], where: string): Map<string, string[]> {
  const known = workerFlags();
  const values = new Map<string, string[]>();
  assert.equal(args[0], 'worker', `${where}: the command is not 'strata worker'`);
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!;
    assert.match(arg, /^--?[a-z]/, `${where}: '${arg}' is not an option`);
    const name = arg.replace(/^--?/, '');
    assert.ok(known.has(name), `${where}: strata worker has no option --${name}`);
    const value = args[i + 1];
    if (value !== undefined && !value.startsWith('-')) {
      values.set(name, [...(values.get(name) ?? []), value]);
      i++;
    }
  }
  for (const arch of values.get('arch') ?? []) assert.ok((ARCHES as readonly string[]).includes(arch), `${where}: unknown arch ${arch}`);
  for (const sandbox of values.get('sandbox') ?? []) assert.ok(sandbox in WORKER_BACKENDS, `${where}: unknown sandbox ${sandbox}`);
  for (const name of ['jobs', 'j', 'grace', 'ack-wait', 'max-deliveries', 'replicas']) {
    for (const value of values.get(name) ?? []) assert.match(value, /^[0-9]+$/, `${where}: --${name} ${value} is not a number`);
  }
  for (const ns of values.get('namespace') ?? []) farmNames(ns);
  return values;
}

function get(value: YamlValue | undefined, ...path: Array<string | number>): YamlValue {
  let at: YamlValue | undefined = value;
  for (const key of path) {
    if (typeof key === 'number') at = Array.isArray(at) ? at[key] : undefined;
    else at = at !== undefined && typeof at === 'object' && !Array.isArray(at) ? at[key] : undefined;
    assert.notEqual(at, undefined, `missing ${path.join('.')}`);
  }
  return at!;
}

describe('deploy/', { timeout: 60_000 }, () => {
  test('the Kubernetes Deployment runs strata worker with options that exist, and KEDA watches its queues', async () => {
    const [deployment] = parseYamlDocuments(await readFile(join(DEPLOY, 'kubernetes', 'worker-deployment.yaml'), 'utf8'));
    const [scaled] = parseYamlDocuments(await readFile(join(DEPLOY, 'kubernetes', 'keda-scaledobject.yaml'), 'utf8'));
    assert.equal(get(deployment, 'kind'), 'Deployment');
    const containers = get(deployment, 'spec', 'template', 'spec', 'containers') as YamlValue[];
    const container = containers.find((c) => get(c, 'name') === 'worker')!;
    assert.deepEqual(get(container, 'command'), ['strata']);
    const values = checkWorkerArgs(get(container, 'args') as string[], 'worker-deployment.yaml');
    const grace = Number(values.get('grace')?.[0] ?? 20);
    assert.ok(Number(get(deployment, 'spec', 'template', 'spec', 'terminationGracePeriodSeconds')) > grace, 'the pod must outlive --grace');
    const credsPath = values.get('nats-creds')![0]!;
    const mounts = get(container, 'volumeMounts') as YamlValue[];
    assert.ok(mounts.some((m) => credsPath.startsWith(`${get(m, 'mountPath') as string}/`)), 'the .creds file is mounted');

    const namespace = values.get('namespace')![0]!;
    const arches = values.get('arch')!;
    assert.equal(get(scaled, 'kind'), 'ScaledObject');
    assert.equal(get(scaled, 'spec', 'scaleTargetRef', 'name'), get(deployment, 'metadata', 'name'));
    assert.equal(get(scaled, 'metadata', 'namespace'), get(deployment, 'metadata', 'namespace'));
    const triggers = get(scaled, 'spec', 'triggers') as YamlValue[];
    assert.equal(triggers.length, arches.length, 'one trigger per arch the workers serve');
    for (const trigger of triggers) {
      assert.equal(get(trigger, 'type'), 'nats-jetstream');
      assert.equal(get(trigger, 'metadata', 'stream'), farmNames(namespace).jobStream);
      const consumer = get(trigger, 'metadata', 'consumer') as string;
      assert.ok(
        arches.some((arch) => consumer === queueConsumer({ arch: arch as 'x86_64', route: 'imported' })),
        `${consumer} is not the queue of an arch the Deployment serves`,
      );
    }
  });

  test('the systemd unit runs strata worker with options that exist and stops after its grace period', async () => {
    const unit = await readFile(join(DEPLOY, 'systemd', 'strata-worker@.service'), 'utf8');
    const exec = /^ExecStart=(\S+) (.*)$/m.exec(unit)!;
    assert.match(exec[1]!, /\/strata$/);
    const values = checkWorkerArgs(exec[2]!.split(/\s+/), 'strata-worker@.service');
    const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)![1]);
    assert.ok(stop > Number(values.get('grace')?.[0] ?? 20));
    assert.match(unit, new RegExp(`^Environment=${NAMESPACE_ENV}=%i$`, 'm'));
    const env = await readFile(join(DEPLOY, 'systemd', 'worker.env'), 'utf8');
    const known = new Set<string>(Object.values(FARM_ENV));
    for (const [, name] of env.matchAll(/^#?\s*([A-Z_]+)=/gm)) assert.ok(known.has(name!), `worker.env sets ${name}, which strata does not read`);
  });

  test('the nats-server configs are valid', async () => {
    const configs = [join(DEPLOY, 'nats', 'nats-server.conf'), ...(await readdir(join(DEPLOY, 'nats', 'cluster'))).map((f) => join(DEPLOY, 'nats', 'cluster', f))];
    assert.equal(configs.length, 4);
    for (const config of configs) {
      const { stderr, stdout } = await run('/usr/sbin/nats-server', ['-c', config, '-t']);
      assert.match(stdout + stderr, /is valid/);
    }
  });

  test('a farm on the single-server config, with password credentials from the environment that no output shows', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-farm-deploy-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const password = 'pw-7f3a9c1e-never-printed';
    // The config as shipped, with clear-text passwords in place of the bcrypt placeholders (nats-server accepts both).
    const config = (await readFile(join(DEPLOY, 'nats', 'nats-server.conf'), 'utf8'))
      .replace(/"\$2a\$11\$REPLACE[^"]*"/g, `"${password}"`)
      .replace(/^listen: .*$/m, '')
      .replace(/^http_port: .*$/m, '')
      .replace(/store_dir: .*$/m, `store_dir: ${join(dir, 'js')}`)
      .replace(/max_file_store: .*$/m, 'max_file_store: 1GB');
    const server = await startNatsServer(config);
    t.after(() => server.stop());
    const env = { [FARM_ENV.user]: 'worker', [FARM_ENV.password]: password };

    // Without credentials the server refuses, and the error says what to check.
    const refused = await run(process.execPath, [CLI, 'farm', 'status', '--nats-url', server.url, '--namespace', 'deploy_1'], { env: { ...process.env, [FARM_ENV.user]: '', [FARM_ENV.password]: '' } }).catch((e: { stderr: string }) => e);
    assert.match((refused as { stderr: string }).stderr, /cannot connect to the build farm.*\n.*credentials/);

    await mkdir(join(dir, 'w'), { recursive: true });
    const w = startWorker(server, 'deploy_1', join(dir, 'w'), ['--sandbox', 'synthetic', '--build-root', SYNTHETIC_ROOT, '--arch', 'x86_64', '-v'], env);
    await w.waitFor('slot(s) for');
    assert.match(w.log(), /user credentials/);
    const status = await run(process.execPath, [CLI, 'farm', 'status', '--json', '--nats-url', `nats://worker:${password}@127.0.0.1:${server.port}`, '--namespace', 'deploy_1']);
    const report = JSON.parse(status.stdout) as { totals: { workers: number; slots: number } };
    assert.equal(report.totals.workers, 1);
    assert.equal(report.totals.slots, 1);
    await stopWorker(w);
    for (const output of [w.log(), status.stdout, status.stderr]) assert.ok(!output.includes(password), 'the password was printed');
  });
});
