/**
 * Connecting to the farm's NATS server. Credentials come from files or the
 * environment (never from command-line arguments, which other users of the
 * host can read in /proc) and are held in `Secret`s that render as `***`, so
 * neither a log line, an error message nor `--json` output can carry them.
 */
import { readFile } from 'node:fs/promises';
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
    options.tls = {
      ...(settings.tls.caFile ? { caFile: settings.tls.caFile } : {}),
      ...(settings.tls.certFile ? { certFile: settings.tls.certFile } : {}),
      ...(settings.tls.keyFile ? { keyFile: settings.tls.keyFile } : {}),
    };
  }
  try {
    return await connect(options);
  } catch (error) {
    // The client's messages name the server and the failure, never the credentials.
    const message = error instanceof Error ? error.message : String(error);
    throw new StrataError(`cannot connect to the build farm at ${describeConnection(settings)}: ${redactUrl(message)}`, {
      kind: 'build',
      hint: /auth/i.test(message)
        ? `check the credentials (${Object.values(FARM_ENV).slice(1).join(', ')})`
        : 'is nats-server running with JetStream (-js) and reachable from here?',
    });
  }
}
