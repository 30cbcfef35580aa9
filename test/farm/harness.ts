/**
 * A real nats-server on 127.0.0.1 with a throw-away JetStream store, and
 * `strata worker` processes against it. Used by the farm tests and the farm
 * benchmark. Every process started here is stopped by `stop()`, and each wait
 * is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeBundle, localFile } from '../../src/build/bundle.js';
import { DigestCache } from '../../src/build/digest-cache.js';
import type { JobBundle } from '../../src/build/executor.js';
import type { Arch } from '../../src/config/model.js';
import { SYNTHETIC_FAIL_ENV, SYNTHETIC_OUTPUT_BYTES_ENV, SYNTHETIC_SLEEP_ENV } from '../../src/farm/synthetic.js';

export const CLI = resolve(fileURLToPath(new URL('../../src/cli/main.js', import.meta.url)));
/** The build root synthetic jobs name, served by workers started with --build-root. */
export const SYNTHETIC_ROOT = 'synthetic0root';

/** Every process started here; killed when the test process exits, however it ends (a failed or timed-out test included). */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
// A benchmark stopped with Ctrl-C or SIGTERM still runs the 'exit' cleanup above.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** With `config` (a whole nats-server config file, its own jetstream block included) instead of the default -js -sd. */
export async function startNatsServer(config = ''): Promise<NatsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-nats-'));
  const storeDir = join(dir, 'js');
  const port = await freePort();
  const args = ['-a', '127.0.0.1', '-p', String(port)];
  if (config !== '') {
    await writeFile(join(dir, 'server.conf'), config);
    args.push('-c', join(dir, 'server.conf'));
  } else {
    args.push('-js', '-sd', storeDir);
  }
  const child = await spawnNatsServer(args);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    process: child,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        // An unref'd timer: once the server is gone it must not keep the test process alive.
        await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000, undefined, { ref: false })]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts nats-server with `args` (killed when the test process exits) and waits until it is ready. */
export async function spawnNatsServer(args: string[], readyWithinMs = 5000): Promise<ChildProcess> {
  const child = track(spawn('/usr/sbin/nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  for (const deadline = Date.now() + readyWithinMs; !output.includes('Server is ready') && Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`nats-server exited: ${output}`);
    await sleep(50);
  }
  if (!output.includes('Server is ready')) {
    child.kill('SIGKILL');
    throw new Error(`nats-server did not start: ${output}`);
  }
  return child;
}

export interface WorkerProcess {
  process: ChildProcess;
  workDir: string;
  /** Everything it wrote to stderr so far. */
  log(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

export function startWorker(
  server: Pick<NatsServer, 'url'>,
  namespace: string,
  workDir: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): WorkerProcess {
  mkdirSync(workDir, { recursive: true });
  const child = track(
    spawn(process.execPath, [CLI, 'worker', '--nats-url', server.url, '--namespace', namespace, '--work-dir', workDir, ...extra], {
      cwd: workDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    }),
  );
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
  return {
    process: child,
    workDir,
    log: () => output,
    exited,
    waitFor: async (text, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      const found = (): boolean => (typeof text === 'string' ? output.includes(text) : text.test(output));
      while (!found()) {
        if (Date.now() > deadline) throw new Error(`worker never printed ${String(text)}; it said:\n${output}`);
        if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}) before printing ${String(text)}:\n${output}`);
        await sleep(25);
      }
    },
  };
}

export async function stopWorker(worker: WorkerProcess, timeoutMs = 15_000): Promise<number | string> {
  if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGTERM');
  const code = await Promise.race([worker.exited, sleep(timeoutMs, undefined, { ref: false }).then(() => 'timeout' as const)]);
  if (code === 'timeout') {
    worker.process.kill('SIGKILL');
    return worker.exited;
  }
  return code;
}

export interface SyntheticJob {
  bundle: JobBundle;
  blobs: Map<string, string>;
}

/**
 * A synthetic job: one source file of its own plus the shared ones, a sleep,
 * routed to workers serving SYNTHETIC_ROOT.
 */
export async function syntheticJob(
  dir: string,
  name: string,
  options: { arch?: Arch; sleepMs?: number; fail?: boolean; shared?: string[]; outputBytes?: number; digests: DigestCache },
): Promise<SyntheticJob> {
  const own = join(dir, 'sources', name);
  await mkdir(join(dir, 'sources'), { recursive: true });
  await writeFile(own, `synthetic source of ${name}\n`);
  const sources = [await localFile(own, `${name}.txt`, options.digests)];
  for (const [i, path] of (options.shared ?? []).entries()) sources.push(await localFile(path, `shared-${i}`, options.digests));
  return makeBundle({
    component: name,
    arch: options.arch ?? 'x86_64',
    noarch: false,
    specFile: `${name}.txt`,
    sources,
    dependencyRpms: [],
    rpmConfig: [],
    configDir: '/nonexistent',
    rpmArgs: [],
    env: {
      [SYNTHETIC_SLEEP_ENV]: String(options.sleepMs ?? 0),
      ...(options.fail ? { [SYNTHETIC_FAIL_ENV]: '1' } : {}),
      ...(options.outputBytes ? { [SYNTHETIC_OUTPUT_BYTES_ENV]: String(options.outputBytes) } : {}),
    },
    buildRoot: { type: 'host', id: SYNTHETIC_ROOT, provides: [], archives: [] },
    buildRootBlobs: new Map(),
    sourceDateEpoch: 1767225600,
    check: false,
    timeoutSeconds: 600,
  });
}
