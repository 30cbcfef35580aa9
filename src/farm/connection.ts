/**
 * Connecting to the farm's NATS server. Credentials come from files or the
 * environment (never from command-line arguments, which other users of the
 * host can read in /proc) and are held in `Secret`s that render as `***`, so
 * neither a log line, an error message nor `--json` output can carry them.
 */
import { readFile } from 'node:fs/promises';
import { connect as netConnect, isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { inspect } from 'node:util';
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { StrataError } from '../util/errors.js';
import { STRATA_VERSION } from '../version.js';
import type { FarmSettings } from '../config/model.js';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '***';
  }
  toJSON(): string {
    return '***';
  }
  [inspect.custom](): string {
    return 'Secret(***)';
  }
}

export type FarmAuth =
  | { kind: 'none' }
  | { kind: 'user'; user: string; password: Secret }
  | { kind: 'token'; token: Secret }
  | { kind: 'nkey'; seedFile: string }
  | { kind: 'creds'; credsFile: string };

export interface FarmTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface FarmConnectionSettings {
  /** Server URLs without any user information. */
  servers: string[];
  auth: FarmAuth;
  tls: FarmTls | null;
}

/** What a command line or `[build.farm]` can say about the connection (no secrets: those come from env or files). */
export type FarmConnectionInput = Omit<FarmSettings, 'queueAhead' | 'replicas'>;

/** The environment variables strata reads, for docs and --help. */
export const FARM_ENV = {
  url: 'STRATA_NATS_URL',
  user: 'STRATA_NATS_USER',
  password: 'STRATA_NATS_PASSWORD',
  token: 'STRATA_NATS_TOKEN',
  nkeyFile: 'STRATA_NATS_NKEY_FILE',
  credsFile: 'STRATA_NATS_CREDS',
  tlsCa: 'STRATA_NATS_TLS_CA',
  tlsCert: 'STRATA_NATS_TLS_CERT',
  tlsKey: 'STRATA_NATS_TLS_KEY',
} as const;

/**
 * Explicit input wins over the environment. A URL may carry `user:password@`
 * or `token@` (as nats CLI users write it); those parts are moved into `auth`
 * and removed from the URL the rest of strata sees.
 */
export function farmConnectionSettings(input: FarmConnectionInput, env: NodeJS.ProcessEnv = process.env): FarmConnectionSettings {
  const raw = input.url ?? env[FARM_ENV.url];
  if (raw === undefined || raw.trim() === '') {
    throw new StrataError('no NATS server given for the build farm', {
      kind: 'usage',
      hint: `pass --nats-url nats://HOST:4222 or set ${FARM_ENV.url}`,
    });
  }
  const servers: string[] = [];
  let urlAuth: FarmAuth = { kind: 'none' };
  for (const part of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const { server, auth } = splitUserInfo(part);
    servers.push(server);
    if (auth.kind !== 'none') urlAuth = auth;
  }
  const credsFile = input.credsFile ?? env[FARM_ENV.credsFile];
  const nkeyFile = input.nkeyFile ?? env[FARM_ENV.nkeyFile];
  const token = env[FARM_ENV.token];
  const user = env[FARM_ENV.user];
  const password = env[FARM_ENV.password];
  const given = [credsFile, nkeyFile, token, user].filter((v) => v !== undefined && v !== '').length + (urlAuth.kind === 'none' ? 0 : 1);
  if (given > 1) {
    throw new StrataError('more than one kind of NATS credentials given', {
      kind: 'usage',
      hint: 'use exactly one of: a .creds file, an nkey seed file, a token, or user and password',
    });
  }
  let auth: FarmAuth = urlAuth;
  if (credsFile) auth = { kind: 'creds', credsFile };
  else if (nkeyFile) auth = { kind: 'nkey', seedFile: nkeyFile };
  else if (token) auth = { kind: 'token', token: new Secret(token) };
  else if (user) auth = { kind: 'user', user, password: new Secret(password ?? '') };

  const tls: FarmTls = {
    caFile: input.tlsCa ?? env[FARM_ENV.tlsCa],
    certFile: input.tlsCert ?? env[FARM_ENV.tlsCert],
    keyFile: input.tlsKey ?? env[FARM_ENV.tlsKey],
  };
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new StrataError('a TLS client certificate needs both its certificate and its key', { kind: 'usage' });
  }
  const wantsTls = servers.some((s) => s.startsWith('tls://')) || Object.values(tls).some((v) => v !== undefined);
  return { servers, auth, tls: wantsTls ? tls : null };
}

function splitUserInfo(url: string): { server: string; auth: FarmAuth } {
  const withScheme = /^[a-z]+:\/\//.test(url) ? url : `nats://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new StrataError(`'${redactUrl(url)}' is not a NATS server URL`, { kind: 'usage', hint: 'write it as nats://HOST:PORT' });
  }
  if (!['nats:', 'tls:'].includes(parsed.protocol)) {
    throw new StrataError(`unsupported scheme '${parsed.protocol}' in the NATS URL`, { kind: 'usage', hint: 'use nats:// or tls://' });
  }
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  const server = `${parsed.protocol}//${parsed.host}`;
  if (user === '') return { server, auth: { kind: 'none' } };
  if (password === '') return { server, auth: { kind: 'token', token: new Secret(user) } };
  return { server, auth: { kind: 'user', user, password: new Secret(password) } };
}

/** A URL as it may be shown: user information replaced. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** One line for logs and status: servers, and which kind of credentials (never their value). */
export function describeConnection(settings: FarmConnectionSettings): string {
  const auth = settings.auth.kind === 'none' ? 'no credentials' : `${settings.auth.kind} credentials`;
  return `${settings.servers.join(',')} (${auth}${settings.tls ? ', TLS' : ''})`;
}

async function readSecretFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new StrataError(`cannot read the NATS ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      kind: 'usage',
    });
  }
}

/**
 * `reconnectSeconds`: how long to keep trying after losing the server. A
 * worker keeps trying for ever (a farm outlives server restarts and rolling
 * cluster upgrades); a build gives up after a while and fails instead of hanging.
 */
export async function connectFarm(settings: FarmConnectionSettings, clientName: string, reconnectSeconds = Infinity): Promise<NatsConnection> {
  const options: NodeConnectionOptions = {
    servers: settings.servers,
    name: `${clientName} (strata ${STRATA_VERSION})`,
    maxReconnectAttempts: Number.isFinite(reconnectSeconds) ? Math.max(1, Math.ceil(reconnectSeconds)) : -1,
    reconnectTimeWait: 1000,
    timeout: 10_000,
  };
  const auth = settings.auth;
  switch (auth.kind) {
    case 'user':
      options.user = auth.user;
      options.pass = auth.password.reveal();
      break;
    case 'token':
      options.token = auth.token.reveal();
      break;
    case 'nkey': {
      const seed = new TextDecoder().decode(await readSecretFile(auth.seedFile, 'nkey seed')).trim();
      options.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
      break;
    }
    case 'creds':
      options.authenticator = credsAuthenticator(await readSecretFile(auth.credsFile, 'credentials'));
      break;
    case 'none':
      break;
  }
  if (settings.tls) {
    const ipIdentity = ipServerIdentity(settings.servers);
    // The client passes any key of `tls` on to tls.connect(); its typings only list the file options.
    const tls: NonNullable<NodeConnectionOptions['tls']> & { checkServerIdentity?: typeof checkServerIdentity } = {
      ...(settings.tls.caFile ? { caFile: settings.tls.caFile } : {}),
      ...(settings.tls.certFile ? { certFile: settings.tls.certFile } : {}),
      ...(settings.tls.keyFile ? { keyFile: settings.tls.keyFile } : {}),
      ...(ipIdentity ? { checkServerIdentity: ipIdentity } : {}),
    };
    options.tls = tls;
  }
  try {
    return await connect(options);
  } catch (error) {
    // The client's messages name the server and the failure, never the credentials.
    let message = error instanceof Error ? error.message : String(error);
    if (settings.tls && /timeout/i.test(message)) {
      const refusal = await tlsRefusal(settings.servers, settings.tls);
      if (refusal) message = refusal;
    }
    // The client reads the seed or .creds file only when the server asks, and does not say which file it was.
    if (auth.kind === 'nkey' && /^nkeys:/.test(message)) message = `the nkey seed file ${auth.seedFile} does not hold a valid user seed (${message})`;
    if (auth.kind === 'creds' && /parse credentials|^nkeys:/.test(message)) message = `the credentials file ${auth.credsFile} is not a valid .creds file (${message})`;
    throw new StrataError(`cannot connect to the build farm at ${describeConnection(settings)}: ${redactUrl(message)}`, {
      kind: 'build',
      hint: /auth|seed file|credentials file/i.test(message)
        ? `check the credentials (${[FARM_ENV.user, FARM_ENV.password, FARM_ENV.token, FARM_ENV.nkeyFile, FARM_ENV.credsFile].join(', ')})`
        : settings.tls && /certificate|tls|ssl|handshake|socket hang up|closed/i.test(message)
          ? `check the TLS settings (tls-ca, tls-cert, tls-key in [build.farm], or ${FARM_ENV.tlsCa}, ${FARM_ENV.tlsCert}, ${FARM_ENV.tlsKey}): the CA must have signed the server's certificate, which must name the host or IP address in the URL, and a server that verifies clients needs a client certificate from a CA it trusts`
          : 'is nats-server running with JetStream (-js) and reachable from here?',
    });
  }
}

/**
 * When a server refuses the client's certificate (or its lack of one), it ends
 * the TLS session right after the handshake, and @nats-io/transport-node 3.4
 * drops that error and reports only a timeout once `timeout` has passed. This
 * goes through the same steps by hand (INFO in clear, then TLS with the same
 * files, then PING) to find the server's reason, e.g. 'tlsv13 alert
 * certificate required'. Nothing is sent before TLS, and no credentials at all.
 */
async function tlsRefusal(servers: string[], tls: FarmTls): Promise<string | undefined> {
  const read = (file: string | undefined): Promise<Buffer | undefined> => (file ? readFile(file).catch(() => undefined) : Promise.resolve(undefined));
  const [ca, cert, key] = await Promise.all([read(tls.caFile), read(tls.certFile), read(tls.keyFile)]);
  for (const server of servers) {
    const url = new URL(server);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const reason = await new Promise<string | undefined>((resolve) => {
      const socket = netConnect(Number(url.port || 4222), host);
      const finish = (why?: string): void => {
        clearTimeout(timer);
        socket.destroy();
        resolve(why);
      };
      const timer = setTimeout(() => finish(), 5000);
      let upgraded = false;
      // Once TLS runs on the socket, its errors come through the TLS socket, with the server's reason.
      socket.on('error', () => upgraded || finish());
      let info = '';
      socket.on('data', (chunk: Buffer) => {
        info += chunk.toString('latin1');
        if (!info.includes('\r\n')) return;
        socket.removeAllListeners('data');
        if (!/"tls_required"\s*:\s*true/.test(info)) return finish();
        upgraded = true;
        const secure = tlsConnect({ socket, host, ...(isIP(host) ? {} : { servername: host }), ca, cert, key }, () => secure.write('PING\r\n'));
        secure.on('data', () => finish());
        secure.on('error', (e: Error & { reason?: string }) => finish(tlsReason(e.reason ?? e.message, cert !== undefined)));
        secure.on('close', () => finish('the server closed the connection during TLS set-up'));
      });
    });
    if (reason) return reason;
  }
  return undefined;
}

function tlsReason(reason: string, sentCertificate: boolean): string {
  if (/certificate required|unknown ca|bad certificate|certificate unknown|unsupported certificate/i.test(reason)) {
    return sentCertificate ? `the server refused our TLS client certificate (${reason})` : `the server requires a TLS client certificate (${reason})`;
  }
  return `TLS failed: ${reason}`;
}

/**
 * @nats-io/transport-node 3.4 upgrades to TLS on the socket it dialled and
 * names a server given by IP address to tls.connect() with no servername at
 * all, so Node checks the server's certificate against 'localhost' instead of
 * that address (nats.js issue 303): a certificate with the right IP SAN fails
 * and one made out to localhost passes. When some servers are IP addresses this
 * checks the certificate against them instead: Node still verified the chain,
 * and for a host name the client does send, that name is checked as usual.
 */
function ipServerIdentity(servers: string[]): typeof checkServerIdentity | undefined {
  const hosts = servers.map((server) => new URL(server).hostname.replace(/^\[(.*)\]$/, '$1'));
  const ips = hosts.filter((host) => isIP(host) !== 0);
  if (ips.length === 0) return undefined;
  // 'localhost' itself only when a URL says so: a certificate for localhost is no proof of being 127.0.0.1.
  const names = hosts.includes('localhost') ? [...ips, 'localhost'] : ips;
  return (host: string, cert: PeerCertificate) => {
    if (host !== 'localhost') return checkServerIdentity(host, cert);
    const errors = names.map((name) => checkServerIdentity(name, cert));
    return errors.includes(undefined) ? undefined : errors[0];
  };
}
