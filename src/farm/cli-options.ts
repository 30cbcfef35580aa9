/**
 * The farm options every command that talks to the farm takes (`strata
 * worker`, `strata farm status`, `strata build --executor nats`). Secrets are
 * deliberately not among them: passwords and tokens come from the environment,
 * keys from files.
 */
import type { Argv } from 'yargs';
import { FARM_ENV, farmConnectionSettings, type FarmConnectionInput, type FarmConnectionSettings } from './connection.js';

export interface NatsArgs {
  natsUrl?: string;
  natsCreds?: string;
  natsNkey?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
}

export function natsOptions<T>(yargs: Argv<T>): Argv<T & NatsArgs> {
  return yargs
    .option('nats-url', { type: 'string', requiresArg: true, describe: `NATS server URL(s), comma-separated (env ${FARM_ENV.url})` })
    .option('nats-creds', { type: 'string', requiresArg: true, describe: `NATS .creds file (env ${FARM_ENV.credsFile})` })
    .option('nats-nkey', { type: 'string', requiresArg: true, describe: `file holding an nkey seed (env ${FARM_ENV.nkeyFile})` })
    .option('nats-tls-ca', { type: 'string', requiresArg: true, describe: `CA bundle to verify the server (env ${FARM_ENV.tlsCa})` })
    .option('nats-tls-cert', { type: 'string', requiresArg: true, describe: `TLS client certificate (env ${FARM_ENV.tlsCert})` })
    .option('nats-tls-key', { type: 'string', requiresArg: true, describe: `TLS client key (env ${FARM_ENV.tlsKey})` })
    .epilogue(
      `Credentials: ${FARM_ENV.user}/${FARM_ENV.password} or ${FARM_ENV.token} in the environment, or an nkey/.creds file; never on the command line.`,
    ) as Argv<T & NatsArgs>;
}

/** The flags as connection input; `fallback` (e.g. `[build.farm]` from config) fills what the flags leave out. */
export function connectionInputFromArgs(args: NatsArgs, fallback: FarmConnectionInput = {}): FarmConnectionInput {
  return {
    url: args.natsUrl ?? fallback.url,
    credsFile: args.natsCreds ?? fallback.credsFile,
    nkeyFile: args.natsNkey ?? fallback.nkeyFile,
    tlsCa: args.natsTlsCa ?? fallback.tlsCa,
    tlsCert: args.natsTlsCert ?? fallback.tlsCert,
    tlsKey: args.natsTlsKey ?? fallback.tlsKey,
  };
}

export function connectionFromArgs(args: NatsArgs, env: NodeJS.ProcessEnv = process.env): FarmConnectionSettings {
  return farmConnectionSettings(connectionInputFromArgs(args), env);
}

export const NAMESPACE_ENV = 'STRATA_FARM_NAMESPACE';
