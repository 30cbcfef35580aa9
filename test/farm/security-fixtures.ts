/**
 * Credentials made fresh for each run of the farm security tests: a CA, server
 * and client certificates (openssl), nkey users, and an operator, account and
 * users with their JWTs (@nats-io/jwt) for a server in operator mode. Nothing
 * here is a real secret; the tests only check that none of it is ever printed.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAccount, createOperator, createUser, encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt';

const run = promisify(execFile);

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd });
}

export interface CertificateAuthority {
  cert: string;
  key: string;
}

/** A self-signed CA (P-256: fast to make). */
export async function makeCa(dir: string, name: string): Promise<CertificateAuthority> {
  await mkdir(dir, { recursive: true });
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  await openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  return { cert, key };
}

/** A certificate signed by `ca`: for the server (by default with SAN IP:127.0.0.1) or a client. */
export async function makeCert(
  dir: string,
  ca: CertificateAuthority,
  name: string,
  use: 'server' | 'client',
  san = 'IP:127.0.0.1',
): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyAgreement',
    use === 'server' ? `extendedKeyUsage=serverAuth\nsubjectAltName=${san}` : 'extendedKeyUsage=clientAuth',
    '',
  ].join('\n'));
  await openssl(dir, 'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', csr, '-subj', `/CN=${use === 'server' ? san.replace(/^[A-Z]+:/, '') : name}`);
  // A serial of its own (not -CAcreateserial: certificates signed at once would race on the CA's serial file).
  const serial = `0x${randomBytes(16).toString('hex')}`;
  await openssl(dir, 'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', serial, '-days', '2', '-extfile', ext, '-out', cert);
  return { cert, key };
}

/** The base64 lines of a PEM private key: what must never be printed. */
export async function pemSecrets(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'));
}

export interface NkeyUser {
  publicKey: string;
  seed: string;
}

export function makeNkeyUser(): NkeyUser {
  const user = createUser();
  return { publicKey: user.getPublicKey(), seed: new TextDecoder().decode(user.getSeed()) };
}

export interface OperatorSetup {
  /** The server config lines: operator, system account, memory resolver with both accounts preloaded. */
  serverConfig: string;
  /** A .creds file's contents for a user of the farm account. */
  creds(name: string): Promise<{ text: string; jwt: string; seed: string }>;
}

/** No limits: an account JWT without limits allows no connections, and JetStream only with its storage limits set. */
const UNLIMITED = {
  conn: -1, subs: -1, data: -1, payload: -1, imports: -1, exports: -1, leaf: -1, wildcards: true,
  mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1,
};

/** An operator with a system account and a JetStream-enabled `farm` account, signed by itself (no nsc). */
export async function makeOperator(name: string): Promise<OperatorSetup> {
  const operator = createOperator();
  const system = createAccount();
  const farm = createAccount();
  const operatorJwt = await encodeOperator(name, operator, { system_account: system.getPublicKey() });
  const systemJwt = await encodeAccount('SYS', system, {}, { signer: operator });
  const farmJwt = await encodeAccount('farm', farm, { limits: UNLIMITED }, { signer: operator });
  return {
    serverConfig: [
      `operator: ${operatorJwt}`,
      `system_account: ${system.getPublicKey()}`,
      'resolver: MEMORY',
      'resolver_preload: {',
      `  ${system.getPublicKey()}: ${systemJwt}`,
      `  ${farm.getPublicKey()}: ${farmJwt}`,
      '}',
    ].join('\n'),
    creds: async (userName) => {
      const user = createUser();
      const jwt = await encodeUser(userName, user, farm);
      return { text: new TextDecoder().decode(fmtCreds(jwt, user)), jwt, seed: new TextDecoder().decode(user.getSeed()) };
    },
  };
}
