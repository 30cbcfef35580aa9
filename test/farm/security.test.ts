/**
 * The farm's credentials and TLS against a real nats-server: token, nkey,
 * mutual TLS with a CA made here, and a .creds file for a JWT user of a server
 * in operator mode. In each case a real `strata worker` and a coordinator run
 * a job end to end and `strata farm status` reports the worker. Then the wrong
 * credentials and an untrusted CA: worker, coordinator and status fail with an
 * error that names the problem. Whatever happens, no password, token, seed,
 * JWT or private key shows up in any output or error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { inspect, promisify } from 'node:util';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DigestCache } from '../../src/build/digest-cache.js';
import { bundleBlobs } from '../../src/build/executor.js';
import { loadProject } from '../../src/config/load.js';
import { FarmCoordinator } from '../../src/farm/coordinator.js';
import { FARM_ENV, farmConnectionSettings, type FarmConnectionInput } from '../../src/farm/connection.js';
import { syntheticArtifact } from '../../src/farm/synthetic.js';
import { sha256Hex } from '../../src/util/hash.js';
import { memoryLogger } from '../../src/util/log.js';
import { renderError, StrataError } from '../../src/util/errors.js';
import { CLI, startNatsServer, startWorker, syntheticJob, SYNTHETIC_ROOT, type NatsServer, type WorkerProcess } from './harness.js';
import { makeCa, makeCert, makeNkeyUser, makeOperator, pemSecrets, type CertificateAuthority } from './security-fixtures.js';

const execFileAsync = promisify(execFile);

let dir: string;
let digests: DigestCache;
/** Every secret made by any test: none may show up in any output of any test. */
const secrets = new Set<string>();

function secret(value: string): string {
  secrets.add(value);
  return value;
}

/** Fails naming where a secret showed up, without printing it. */
function assertNoSecret(outputs: Record<string, string>): void {
  for (const [where, text] of Object.entries(outputs)) {
    for (const value of secrets) assert.ok(!text.includes(value), `${where} shows a secret (${value.length} characters)`);
  }
}

/**
 * A timer that does not keep the test process alive: the harness's own stop
 * functions wait on ref'd timers that hold the process for up to 15 s after
 * the last call, however quickly the process they wait for exits.
 */
function deadline<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}

async function stopWorker(worker: WorkerProcess): Promise<number | string> {
  if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGTERM');
  if ((await Promise.race([worker.exited, deadline(15_000, 'timeout')])) === 'timeout') worker.process.kill('SIGKILL');
  return worker.exited;
}

/** Stops the server, then lets the harness remove its folder (with nothing left to wait for). */
async function stopServer(server: NatsServer): Promise<void> {
  if (server.process.exitCode === null && server.process.signalCode === null) {
    const exited = new Promise((resolve) => server.process.once('exit', resolve));
    server.process.kill('SIGTERM');
    if ((await Promise.race([exited, deadline(5000, 'timeout')])) === 'timeout') server.process.kill('SIGKILL');
    await exited;
  }
  await server.stop();
}

/** The environment of a child: ours without any STRATA_NATS_* variable, plus `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('STRATA_NATS_')));
  return { ...base, ...env };
}

interface Cli {
  code: number;
  stdout: string;
  stderr: string;
}

async function strata(args: string[], env: Record<string, string> = {}): Promise<Cli> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args], { env: childEnv(env), timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The coordinator's settings as `strata build` gets them: `[build.farm]` of a (minimal) project. */
async function farmFromConfig(name: string, farmTable: Record<string, string>): Promise<FarmConnectionInput> {
  const project = join(dir, 'projects', name);
  await mkdir(project, { recursive: true });
  const lines = Object.entries(farmTable).map(([key, value]) => `${key} = ${JSON.stringify(value)}`);
  await writeFile(
    join(project, 'toolkit.config.toml'),
    ['[distro]', 'name = "security-test"', 'version = "1"', 'source-date-epoch = 1767225600', '', '[build]', 'executor = "nats"', '', '[build.farm]', ...lines, ''].join('\n'),
  );
  const model = await loadProject({ cwd: project });
  assert.equal(model.build.executor, 'nats');
  return model.build.farm;
}

function workerArgs(...extra: string[]): string[] {
  return ['--sandbox', 'synthetic', '--build-root', SYNTHETIC_ROOT, '--arch', 'x86_64', '-v', ...extra];
}

interface FarmCase {
  server: NatsServer;
  namespace: string;
  /** What the worker is given: flags and environment. */
  worker: { args?: string[]; env?: Record<string, string> };
  /** The coordinator's connection input and environment. */
  coordinator: { input: FarmConnectionInput; env?: Record<string, string> };
  /** `strata farm status`: flags and environment (the URL is added unless `url` is given). */
  status: { args?: string[]; env?: Record<string, string>; url?: string };
  /** What the worker's and status's connection line must say, e.g. "token credentials, TLS". */
  describes: string;
}

/** A worker and a coordinator run one job end to end; status sees the worker; nothing shows a secret. */
async function runFarm(c: FarmCase): Promise<void> {
  const worker = startWorker(c.server, c.namespace, join(dir, 'workers', c.namespace), workerArgs(...(c.worker.args ?? [])), c.worker.env ?? {});
  const lines: string[] = [];
  const farm = new FarmCoordinator({
    connection: farmConnectionSettings(c.coordinator.input, c.coordinator.env ?? {}),
    namespace: c.namespace,
    log: memoryLogger(lines),
    workerPollMs: 200,
  });
  let status: Cli = { code: -1, stdout: '', stderr: '' };
  let statusJson: Cli = status;
  let jobLog = '';
  try {
    await worker.waitFor('slot(s) for');
    assert.ok(worker.log().includes(`(${c.describes})`), `the worker says how it connected:\n${worker.log()}`);
    const job = await syntheticJob(dir, `job-${c.namespace}`, { digests, sleepMs: 10 });
    const outputDir = join(dir, 'out', c.namespace);
    const logFile = join(dir, 'logs', `${c.namespace}.log`);
    await mkdir(join(dir, 'logs'), { recursive: true });
    await writeFile(logFile, '');
    const result = await farm.run({ bundle: job.bundle, blobs: job.blobs, outputDir, logFile });
    assert.equal(result.status, 'succeeded', `${JSON.stringify(result)}\nworker:\n${worker.log()}\ncoordinator:\n${lines.join('\n')}`);
    const expected = syntheticArtifact(job.bundle.key, bundleBlobs(job.bundle));
    assert.equal(result.artifacts[0]!.sha256, sha256Hex(expected.data));
    assert.deepEqual(await readFile(join(outputDir, expected.file)), expected.data);
    jobLog = await readFile(logFile, 'utf8');
    assert.match(jobLog, /built on farm worker/);
    assert.ok(lines.some((l) => l.includes(`(${c.describes})`)), `the coordinator says how it connected:\n${lines.join('\n')}`);

    const statusArgs = ['farm', 'status', '--nats-url', c.status.url ?? c.server.url, '--namespace', c.namespace, ...(c.status.args ?? [])];
    [status, statusJson] = await Promise.all([strata(statusArgs, c.status.env), strata([...statusArgs, '--json'], c.status.env)]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^workers: 1, slots: 1 /m, status.stdout);
    assert.ok(status.stdout.includes(`(${c.describes})`), status.stdout);
    assert.equal(statusJson.code, 0, statusJson.stderr);
    assert.equal((JSON.parse(statusJson.stdout) as { totals: { workers: number } }).totals.workers, 1);
  } finally {
    await farm.close();
    assert.equal(await stopWorker(worker), 0, worker.log());
  }
  assertNoSecret({
    'the worker output': worker.log(),
    'the coordinator log': lines.join('\n'),
    'farm status': status.stdout + status.stderr,
    'farm status --json': statusJson.stdout + statusJson.stderr,
    'the job log': jobLog,
  });
}

interface Refusal {
  server: NatsServer;
  namespace: string;
  worker: { args?: string[]; env?: Record<string, string> };
  coordinator: { input: FarmConnectionInput; env?: Record<string, string> };
  status: { args?: string[]; env?: Record<string, string>; url?: string };
  /** What every error message must say. */
  says: RegExp;
  /** The hint every rendered error (worker, coordinator, farm status) must give. */
  hint: RegExp;
}

/** Worker, coordinator and farm status all fail, each with an error that matches `says` and shows no secret. */
async function refused(c: Refusal): Promise<void> {
  const worker = startWorker(c.server, c.namespace, join(dir, 'workers', c.namespace), workerArgs(...(c.worker.args ?? [])), c.worker.env ?? {});
  const statusRun = strata(['farm', 'status', '--nats-url', c.status.url ?? c.server.url, '--namespace', c.namespace, ...(c.status.args ?? [])], c.status.env);
  const lines: string[] = [];
  const farm = new FarmCoordinator({
    connection: farmConnectionSettings(c.coordinator.input, c.coordinator.env ?? {}),
    namespace: c.namespace,
    log: memoryLogger(lines),
    workerPollMs: 200,
  });
  const job = await syntheticJob(dir, `refused-${c.namespace}`, { digests });
  // The probe shares the run's connection attempt (one timeout, not two).
  const [failure, probe] = await Promise.all([
    farm
      .run({ bundle: job.bundle, blobs: job.blobs, outputDir: join(dir, 'out', c.namespace), logFile: join(dir, 'logs', `${c.namespace}.log`) })
      .then(
        (result) => assert.fail(`the coordinator ran a job: ${JSON.stringify(result)}`),
        (error: unknown) => error,
      ),
    farm.probe(),
  ]);
  await farm.close();
  assert.ok(failure instanceof StrataError, String(failure));
  const coordinatorError = renderError(failure);
  assert.equal(probe.ok, false);
  const exited = await Promise.race([worker.exited, deadline(20_000, 'still running')]);
  if (exited === 'still running') await stopWorker(worker);
  const status = await statusRun;
  assert.notEqual(exited, 0, `the worker ${exited === 'still running' ? 'kept running' : 'exited 0'}:\n${worker.log()}`);
  assert.notEqual(status.code, 0, status.stdout);
  assert.match(probe.detail, c.says, `coordinator probe: ${probe.detail}`);
  for (const [who, text] of [['coordinator', coordinatorError], ['worker', worker.log()], ['farm status', status.stderr]]) {
    assert.match(text!, c.says, `${who}: ${text}`);
    assert.match(text!, c.hint, `${who}: ${text}`);
  }
  assertNoSecret({
    'the worker output': worker.log(),
    // All the error object carries: stack, cause chain, fields.
    'the coordinator error': coordinatorError + inspect(failure, { depth: 8 }),
    'the coordinator log': lines.join('\n'),
    'the coordinator probe': probe.detail,
    'farm status': status.stdout + status.stderr,
  });
}

let tls: {
  ca: CertificateAuthority;
  rogueCa: CertificateAuthority;
  server: { cert: string; key: string };
  /** Signed by the right CA, but made out to localhost, not 127.0.0.1. */
  localhostServer: { cert: string; key: string };
  client: { cert: string; key: string };
  rogueClient: { cert: string; key: string };
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-farm-security-'));
  digests = await DigestCache.open(join(dir, 'cache'));
  const certs = join(dir, 'certs');
  const [ca, rogueCa] = await Promise.all([makeCa(certs, 'strata-test-ca'), makeCa(certs, 'rogue-ca')]);
  const [server, localhostServer, client, rogueClient] = await Promise.all([
    makeCert(certs, ca, 'server', 'server'),
    makeCert(certs, ca, 'localhost-server', 'server', 'DNS:localhost'),
    makeCert(certs, ca, 'worker', 'client'),
    makeCert(certs, rogueCa, 'rogue-worker', 'client'),
  ]);
  tls = { ca, rogueCa, server, localhostServer, client, rogueClient };
  for (const key of [ca.key, rogueCa.key, server.key, localhostServer.key, client.key, rogueClient.key]) for (const line of await pemSecrets(key)) secret(line);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function jetstream(name: string): string {
  return `jetstream: { store_dir: ${JSON.stringify(join(dir, 'js', name))}, max_file_store: 1GB, max_memory_store: 256MB }`;
}

/** Mutual TLS: the server presents `cert` and requires a client certificate signed by the test CA. */
function tlsServerConfig(name: string, cert: { cert: string; key: string }): string {
  return [
    jetstream(name),
    'tls {',
    `  cert_file: ${JSON.stringify(cert.cert)}`,
    `  key_file: ${JSON.stringify(cert.key)}`,
    `  ca_file: ${JSON.stringify(tls.ca.cert)}`,
    '  verify: true',
    '  timeout: 2',
    '}',
    '',
  ].join('\n');
}

describe('farm security against a real nats-server', { timeout: 120_000 }, () => {
  test('token auth: the worker from the environment, status from a token@ URL', async (t) => {
    const token = secret('tok-5b0e2f7d-never-printed');
    const server = await startNatsServer(`${jetstream('token')}\nauthorization { token: ${JSON.stringify(token)} }\n`);
    t.after(() => stopServer(server));
    await runFarm({
      server,
      namespace: 'token_1',
      worker: { env: { [FARM_ENV.token]: token } },
      coordinator: { input: { url: server.url }, env: { [FARM_ENV.token]: token } },
      status: { url: `nats://${token}@127.0.0.1:${server.port}` },
      describes: 'token credentials',
    });
    const wrong = secret('tok-wrong-0c1d-never-printed');
    await refused({
      server,
      namespace: 'token_2',
      worker: { env: { [FARM_ENV.token]: wrong } },
      coordinator: { input: { url: server.url }, env: { [FARM_ENV.token]: wrong } },
      status: { env: { [FARM_ENV.token]: wrong } },
      says: /cannot connect to the build farm at nats:\/\/127\.0\.0\.1:\d+ \(token credentials\).*[Aa]uthorization/,
      hint: /hint: check the credentials/,
    });
  });

  test('nkey auth: the seed in a file (worker --nats-nkey, coordinator [build.farm] nkey-file)', async (t) => {
    const user = makeNkeyUser();
    secret(user.seed);
    const password = secret('pw-91c4-never-printed');
    const server = await startNatsServer(
      `${jetstream('nkey')}\nauthorization { users: [ { nkey: ${user.publicKey} }, { user: builder, password: ${JSON.stringify(password)} } ] }\n`,
    );
    t.after(() => stopServer(server));
    const seedFile = join(dir, 'worker.nk');
    await writeFile(seedFile, `${user.seed}\n`, { mode: 0o600 });
    await runFarm({
      server,
      namespace: 'nkey_1',
      worker: { args: ['--nats-nkey', seedFile] },
      coordinator: { input: await farmFromConfig('nkey', { url: server.url, 'nkey-file': seedFile }) },
      status: { env: { [FARM_ENV.nkeyFile]: seedFile } },
      describes: 'nkey credentials',
    });
    // Inside the project, status takes the server and the seed file from its [build.farm].
    const fromConfig = await strata(['farm', 'status', '--config', join(dir, 'projects', 'nkey', 'toolkit.config.toml'), '--namespace', 'nkey_1']);
    assert.equal(fromConfig.code, 0, fromConfig.stderr);
    assert.ok(fromConfig.stdout.includes('(nkey credentials)'), fromConfig.stdout);
    assertNoSecret({ 'farm status from [build.farm]': fromConfig.stdout + fromConfig.stderr });

    // A well-formed seed of a user the server does not know.
    const stranger = makeNkeyUser();
    secret(stranger.seed);
    const strangerFile = join(dir, 'stranger.nk');
    await writeFile(strangerFile, stranger.seed, { mode: 0o600 });
    await refused({
      server,
      namespace: 'nkey_2',
      worker: { env: { [FARM_ENV.nkeyFile]: strangerFile } },
      coordinator: { input: { url: server.url, nkeyFile: strangerFile } },
      status: { args: ['--nats-nkey', strangerFile] },
      says: /\(nkey credentials\).*[Aa]uthorization/,
      hint: /hint: check the credentials/,
    });

    // A seed file cut short: the client reads it only when the server asks, the error names the file.
    const truncatedFile = join(dir, 'truncated.nk');
    await writeFile(truncatedFile, `${secret(stranger.seed.slice(0, -6))}\n`, { mode: 0o600 });
    await refused({
      server,
      namespace: 'nkey_4',
      worker: { args: ['--nats-nkey', truncatedFile] },
      coordinator: { input: { url: server.url, nkeyFile: truncatedFile } },
      status: { env: { [FARM_ENV.nkeyFile]: truncatedFile } },
      says: /\(nkey credentials\): the nkey seed file \S*truncated\.nk does not hold a valid user seed/,
      hint: /hint: check the credentials/,
    });

    // And the user/password user next to it, with the wrong password.
    const wrongPassword = secret('pw-wrong-77aa-never-printed');
    const env = { [FARM_ENV.user]: 'builder', [FARM_ENV.password]: wrongPassword };
    await refused({
      server,
      namespace: 'nkey_3',
      worker: { env },
      coordinator: { input: { url: server.url }, env },
      status: { env },
      says: /\(user credentials\).*[Aa]uthorization/,
      hint: /hint: check the credentials/,
    });
  });

  test('mutual TLS with a CA made here (worker from the environment, coordinator from [build.farm] tls-*)', async (t) => {
    const server = await startNatsServer(tlsServerConfig('tls', tls.server));
    t.after(() => stopServer(server));
    const good = { [FARM_ENV.tlsCa]: tls.ca.cert, [FARM_ENV.tlsCert]: tls.client.cert, [FARM_ENV.tlsKey]: tls.client.key };
    await runFarm({
      server,
      namespace: 'tls_1',
      worker: { env: good },
      coordinator: { input: await farmFromConfig('tls', { url: server.url, 'tls-ca': tls.ca.cert, 'tls-cert': tls.client.cert, 'tls-key': tls.client.key }) },
      status: { args: ['--nats-tls-ca', tls.ca.cert, '--nats-tls-cert', tls.client.cert, '--nats-tls-key', tls.client.key] },
      describes: 'no credentials, TLS',
    });

    // The client trusts another CA: the server's certificate cannot be verified.
    const untrusted = { ...good, [FARM_ENV.tlsCa]: tls.rogueCa.cert };
    await refused({
      server,
      namespace: 'tls_2',
      worker: { env: untrusted },
      coordinator: { input: { url: server.url, tlsCa: tls.rogueCa.cert, tlsCert: tls.client.cert, tlsKey: tls.client.key } },
      status: { env: untrusted },
      says: /\(no credentials, TLS\): .*certificate/,
      hint: /hint: check the TLS settings/,
    });

    // The server ends the session after the handshake: the client library sees only a timeout (10 s), so both run at once.
    const rogue = { [FARM_ENV.tlsCa]: tls.ca.cert, [FARM_ENV.tlsCert]: tls.rogueClient.cert, [FARM_ENV.tlsKey]: tls.rogueClient.key };
    const caOnly = { [FARM_ENV.tlsCa]: tls.ca.cert };
    await Promise.all([
      // The client's certificate is signed by a CA the server does not trust.
      refused({
        server,
        namespace: 'tls_3',
        worker: { env: rogue },
        coordinator: { input: { url: server.url, tlsCa: tls.ca.cert, tlsCert: tls.rogueClient.cert, tlsKey: tls.rogueClient.key } },
        status: { env: rogue },
        says: /\(no credentials, TLS\): the server refused our TLS client certificate \(.*(bad certificate|unknown ca)/,
        hint: /hint: check the TLS settings/,
      }),
      // No client certificate at all.
      refused({
        server,
        namespace: 'tls_5',
        worker: { env: caOnly },
        coordinator: { input: { url: server.url, tlsCa: tls.ca.cert } },
        status: { env: caOnly },
        says: /\(no credentials, TLS\): the server requires a TLS client certificate/,
        hint: /hint: check the TLS settings/,
      }),
    ]);

    // A server whose certificate (from the right CA) names localhost, reached as 127.0.0.1.
    const impostor = await startNatsServer(tlsServerConfig('tls-localhost', tls.localhostServer));
    t.after(() => stopServer(impostor));
    await refused({
      server: impostor,
      namespace: 'tls_4',
      worker: { env: good },
      coordinator: { input: { url: impostor.url, tlsCa: tls.ca.cert, tlsCert: tls.client.cert, tlsKey: tls.client.key } },
      status: { env: good },
      says: /\(no credentials, TLS\): .*IP: 127\.0\.0\.1 is not in the cert's list/,
      hint: /hint: check the TLS settings/,
    });
  });

  test('a .creds file for a JWT user of a server in operator mode (worker --nats-creds, coordinator [build.farm] creds-file)', async (t) => {
    const operator = await makeOperator('strata-test');
    const server = await startNatsServer(`${jetstream('operator')}\n${operator.serverConfig}\n`);
    t.after(() => stopServer(server));
    const creds = await operator.creds('worker');
    secret(creds.jwt);
    secret(creds.seed);
    const credsFile = join(dir, 'worker.creds');
    await writeFile(credsFile, creds.text, { mode: 0o600 });
    await runFarm({
      server,
      namespace: 'creds_1',
      worker: { args: ['--nats-creds', credsFile] },
      coordinator: { input: await farmFromConfig('creds', { url: server.url, 'creds-file': credsFile }) },
      status: { env: { [FARM_ENV.credsFile]: credsFile } },
      describes: 'creds credentials',
    });

    // A user of another operator's account: well-formed, not trusted here.
    const other = await (await makeOperator('elsewhere')).creds('intruder');
    secret(other.jwt);
    secret(other.seed);
    const otherFile = join(dir, 'intruder.creds');
    await writeFile(otherFile, other.text, { mode: 0o600 });
    await refused({
      server,
      namespace: 'creds_2',
      worker: { env: { [FARM_ENV.credsFile]: otherFile } },
      coordinator: { input: { url: server.url, credsFile: otherFile } },
      status: { args: ['--nats-creds', otherFile] },
      says: /\(creds credentials\).*[Aa]uthorization/,
      hint: /hint: check the credentials/,
    });

    // A .creds file with the JWT but not the seed.
    const halfFile = join(dir, 'half.creds');
    assert.ok(creds.text.indexOf('-----BEGIN USER NKEY SEED-----') > creds.text.indexOf(creds.jwt));
    await writeFile(halfFile, creds.text.slice(0, creds.text.indexOf('-----BEGIN USER NKEY SEED-----')), { mode: 0o600 });
    await refused({
      server,
      namespace: 'creds_3',
      worker: { args: ['--nats-creds', halfFile] },
      coordinator: { input: { url: server.url, credsFile: halfFile } },
      status: { env: { [FARM_ENV.credsFile]: halfFile } },
      says: /\(creds credentials\): the credentials file \S*half\.creds is not a valid \.creds file/,
      hint: /hint: check the credentials/,
    });
  });
});
