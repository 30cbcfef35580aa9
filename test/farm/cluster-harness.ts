/**
 * Three real nats-server processes on 127.0.0.1 forming one JetStream cluster:
 * free client, cluster and monitoring ports, a store folder each, routes to
 * all three and a server_name each. `startNatsCluster` returns once the
 * cluster has a JetStream meta leader (before that, creating a stream fails).
 * Every process is killed when the test process exits, however it ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** `count` distinct free ports, all held open until every one is chosen (so none is handed out twice). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolveListen, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolveListen());
      });
      const address = server.address();
      if (typeof address !== 'object' || address === null) throw new Error('no port');
      ports.push(address.port);
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
  return ports;
}

export interface ClusterNode {
  /** server_name, e.g. `n2`: what stream info names as leader or replica. */
  name: string;
  url: string;
  port: number;
  monitorPort: number;
  storeDir: string;
  process: ChildProcess;
  /** Everything it wrote to stderr so far. */
  log(): string;
  alive(): boolean;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
}

export interface NatsCluster {
  nodes: ClusterNode[];
  /** All three client URLs, comma-separated, as `--nats-url` and `[build.farm] url` take them. */
  urls: string;
  /** The node whose client connections include one whose name starts with `clientName`, from its /connz. */
  nodeOf(clientName: string): Promise<ClusterNode | null>;
  stop(): Promise<void>;
}

export const CLUSTER_NAME = 'strata-test';

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-nats-cluster-'));
  const ports = await freePorts(size * 3);
  const client = ports.slice(0, size);
  const cluster = ports.slice(size, 2 * size);
  const monitor = ports.slice(2 * size);
  const routes = cluster.map((p) => `nats-route://127.0.0.1:${p}`).join(', ');
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < size; i++) {
    const name = `n${i + 1}`;
    const storeDir = join(dir, name);
    const conf = join(dir, `${name}.conf`);
    await writeFile(
      conf,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${client[i]}`,
        `http: 127.0.0.1:${monitor[i]}`,
        `jetstream { store_dir: "${storeDir}" }`,
        `cluster { name: ${CLUSTER_NAME}, listen: 127.0.0.1:${cluster[i]}, routes: [${routes}] }`,
        '',
      ].join('\n'),
    );
    const child = spawn('/usr/sbin/nats-server', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.once('exit', () => children.delete(child));
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    nodes.push({
      name,
      url: `nats://127.0.0.1:${client[i]}`,
      port: client[i]!,
      monitorPort: monitor[i]!,
      storeDir,
      process: child,
      log: () => output,
      alive: () => child.exitCode === null && child.signalCode === null,
      kill: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
    });
  }
  const result: NatsCluster = {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    nodeOf: async (clientName) => {
      for (const node of nodes.filter((n) => n.alive())) {
        const connz = (await (await fetch(`http://127.0.0.1:${node.monitorPort}/connz?limit=1024`)).json()) as { connections?: Array<{ name?: string }> };
        if ((connz.connections ?? []).some((c) => c.name?.startsWith(clientName))) return node;
      }
      return null;
    },
    stop: async () => {
      await Promise.all(nodes.map((n) => n.kill()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const node of nodes) {
      for (let i = 0; i < 200 && !node.log().includes('Server is ready'); i++) {
        if (!node.alive()) throw new Error(`nats-server ${node.name} exited: ${node.log()}`);
        await sleep(50);
      }
      if (!node.log().includes('Server is ready')) throw new Error(`nats-server ${node.name} did not start: ${node.log()}`);
    }
    await waitForMetaLeader(nodes, 30_000);
  } catch (error) {
    await result.stop();
    throw error;
  }
  return result;
}

/**
 * Until the cluster has elected a JetStream meta leader, `$JS.API.INFO`
 * answers with an error (or not at all); asked of every node, so each one
 * knows the leader before a test uses it.
 */
export async function waitForMetaLeader(nodes: ClusterNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const node of nodes.filter((n) => n.alive())) {
    const nc = await connect({ servers: node.url, ignoreClusterUpdates: true });
    try {
      for (;;) {
        const reply = await nc.request('$JS.API.INFO', undefined, { timeout: 1000 }).catch(() => null);
        const answer = reply === null ? null : (reply.json() as { error?: unknown; type?: string });
        if (answer !== null && answer.error === undefined) break;
        if (Date.now() > deadline) throw new Error(`the JetStream cluster has no meta leader after ${timeoutMs} ms (${node.name} says ${JSON.stringify(answer)})`);
        await sleep(200);
      }
    } finally {
      await nc.close();
    }
  }
}
