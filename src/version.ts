import { readFileSync } from 'node:fs';

/** The package version; also part of every build recipe's identity. */
export const STRATA_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
