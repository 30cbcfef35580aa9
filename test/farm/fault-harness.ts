/**
 * Fault injection for the farm tests (test/farm/faults.test.ts), on top of
 * harness.ts: a nats-server that can be killed and started again on the same
 * port with the same JetStream store, and a TCP tap between one worker and the
 * server that cuts the worker off (and kills it) at an exact point of its
 * protocol stream, e.g. after its result was sent but before its ack.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, spawnNatsServer } from './harness.js';

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A nats-server whose process can die and come back: same port, same JetStream store. */
export interface RestartableNats {
  url: string;
  port: number;
  storeDir: string;
  /** Kills the running server and waits until it is gone. */
  kill(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts a server again (after kill) and waits until it is ready. */
  start(): Promise<void>;
  /** Kills the server if running and removes its store. */
  stop(): Promise<void>;
}

function spawnNats(port: number, storeDir: string): Promise<ChildProcess> {
  // A restart recovers the store first, so allow it longer than a fresh start.
  return spawnNatsServer(['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], 10_000);
}

export async function startRestartableNats(): Promise<RestartableNats> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-nats-restart-'));
  const storeDir = join(dir, 'js');
  const port = await freePort();
  let child: ChildProcess | null = await spawnNats(port, storeDir);
  const kill = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    if (child === null) return;
    const dying = child;
    child = null;
    dying.kill(signal);
    await Promise.race([exited(dying), sleep(10_000, undefined, { ref: false })]);
    if (dying.exitCode === null && dying.signalCode === null) {
      dying.kill('SIGKILL');
      await exited(dying);
    }
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    kill,
    start: async () => {
      if (child !== null) throw new Error('nats-server is already running');
      child = await spawnNats(port, storeDir);
    },
    stop: async () => {
      await kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP proxy for one client's NATS connection. `cutAt(patterns, onCut)`
 * watches what the client sends: once the patterns have been seen in that
 * order, the data holding the last one is not forwarded, `onCut` runs (the test
 * SIGKILLs the client there) and the connection is closed. The server thus
 * sees everything the client sent before that point and nothing from it on.
 */
export interface NatsTap {
  url: string;
  /** Resolves once the cut happened. */
  cutAt(patterns: RegExp[], onCut: () => void): Promise<void>;
  close(): Promise<void>;
}

/** How much of the client's stream is kept to match patterns split across reads. */
const TAP_OVERLAP = 1024;

export async function startNatsTap(upstreamPort: number): Promise<NatsTap> {
  const sockets = new Set<Socket>();
  let rule: { patterns: RegExp[]; onCut: () => void; done: () => void } | null = null;
  let cut = false;

  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: upstreamPort });
    sockets.add(client).add(upstream);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', closeBoth).on('error', closeBoth);
    upstream.on('close', closeBoth).on('error', closeBoth);
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    // The client's stream as latin1 text (NATS protocol lines are ASCII); `base` is the offset of text[0].
    let text = '';
    let base = 0;
    let stage = 0;
    let searchFrom = 0;
    client.on('data', (chunk: Buffer) => {
      if (cut) return;
      if (rule !== null) {
        text += chunk.toString('latin1');
        while (stage < rule.patterns.length) {
          const pattern = new RegExp(rule.patterns[stage]!.source, 'g');
          pattern.lastIndex = Math.max(0, searchFrom - base);
          const match = pattern.exec(text);
          if (match === null) break;
          // The next pattern must come after this one, not match older text.
          searchFrom = base + match.index + match[0].length;
          stage++;
        }
        if (stage === rule.patterns.length) {
          cut = true;
          const { onCut, done } = rule;
          rule = null;
          onCut();
          closeBoth();
          done();
          return;
        }
        if (text.length > TAP_OVERLAP) {
          base += text.length - TAP_OVERLAP;
          text = text.slice(-TAP_OVERLAP);
        }
      }
      upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('tap has no port');
  return {
    url: `nats://127.0.0.1:${address.port}`,
    cutAt: (patterns, onCut) => {
      if (rule !== null || cut) throw new Error('the tap is already armed or cut');
      return new Promise<void>((done) => (rule = { patterns, onCut, done }));
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
