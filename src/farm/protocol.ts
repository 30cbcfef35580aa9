/**
 * The messages coordinator and workers exchange. Everything read from the
 * server is untrusted until checked: each message is parsed against its schema
 * here, and the bundle a job names is fetched by digest and verified before a
 * worker looks at it.
 */
import { z } from 'zod';
import { ARCHES, type Arch } from '../config/model.js';
import { BUNDLE_FORMAT, type JobBundle } from '../build/executor.js';
import { StrataError } from '../util/errors.js';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex SHA-256');
const arch = z.enum(ARCHES as [Arch, ...Arch[]]);
const blob = z.strictObject({ sha256, size: z.number().int().nonnegative() });
export type BlobRef = z.infer<typeof blob>;
/** A small blob carried by value (see inline.ts): base64 bytes under the digest they must hash to. */
const inlineBlob = z.strictObject({ sha256, data: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64') });
export type InlineBlob = z.infer<typeof inlineBlob>;

/** A job waiting in the queue: just enough to route it and find its bundle. */
const jobMessage = z.strictObject({
  format: z.literal('strata-farm-job/1'),
  job: z.string().min(1),
  key: z.string().regex(/^[0-9a-f]{16,128}$/),
  arch,
  route: z.string().regex(/^[a-z0-9-]+$/),
  /** The bundle by digest; small ones also carry their canonical JSON here (checked against the digest all the same). */
  bundle: z.strictObject({ sha256, size: z.number().int().nonnegative(), inline: z.string().optional() }),
  /** Small input blobs of the bundle, by value; the others are in the store. */
  blobs: z.array(inlineBlob).optional(),
  /** Milliseconds since the epoch when the coordinator published it (for queue-time figures). */
  publishedAt: z.number(),
});
export type JobMessage = z.infer<typeof jobMessage>;

const artifact = z.strictObject({ file: z.string().regex(/^[^/\\\0]+$/).refine((f) => f !== '.' && f !== '..'), sha256, size: z.number().int().nonnegative() });

const jobResult = z.strictObject({
  job: z.string(),
  key: z.string(),
  status: z.enum(['succeeded', 'failed']),
  exitCode: z.number().int().nullable(),
  timedOut: z.boolean(),
  seconds: z.number().nonnegative(),
  artifacts: z.array(artifact),
  reason: z.string().optional(),
  logTail: z.array(z.string()),
});

const timing = z.strictObject({
  /** Fetching and verifying the bundle and its blobs. */
  fetchMs: z.number(),
  buildMs: z.number(),
  uploadMs: z.number(),
  startedAt: z.number(),
  finishedAt: z.number(),
});

/**
 * What a worker reports for one delivery. `built`: the executor ran (the build
 * may still have failed). `rejected`: the worker refused to run the bundle
 * (an input missing or not matching its digest, a bundle it cannot serve), so
 * nothing was built.
 */
const resultMessage = z.discriminatedUnion('outcome', [
  z.strictObject({
    format: z.literal('strata-farm-result/1'),
    outcome: z.literal('built'),
    key: z.string(),
    bundle: sha256,
    worker: z.string(),
    delivery: z.number().int().positive(),
    result: jobResult,
    /** The job log: by digest in the store, or (when small) its bytes right here, base64. */
    log: z.strictObject({ sha256, size: z.number().int().nonnegative(), inline: z.string().optional() }).nullable(),
    /** Small artifacts, by value; the others are in the store. */
    blobs: z.array(inlineBlob).optional(),
    timing,
  }),
  z.strictObject({
    format: z.literal('strata-farm-result/1'),
    outcome: z.literal('rejected'),
    key: z.string(),
    bundle: sha256,
    worker: z.string(),
    delivery: z.number().int().positive(),
    reason: z.string(),
    /** Blobs that were missing or did not match their digest. */
    badBlobs: z.array(sha256),
  }),
]);
export type ResultMessage = z.infer<typeof resultMessage>;
export type BuiltResult = Extract<ResultMessage, { outcome: 'built' }>;

const heartbeat = z.strictObject({
  format: z.literal('strata-farm-worker/1'),
  id: z.string(),
  host: z.string(),
  version: z.string(),
  sandbox: z.string(),
  arches: z.array(arch),
  /** Build-root routes served (`host-<id>`, `imported`). */
  routes: z.array(z.string()),
  slots: z.number().int().positive(),
  running: z.array(z.strictObject({ job: z.string(), key: z.string(), since: z.number() })),
  completed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** Jobs finished in the last minute (throughput). */
  finishedLastMinute: z.number().int().nonnegative(),
  startedAt: z.number(),
  seenAt: z.number(),
  /** Got SIGTERM: takes no new jobs. */
  draining: z.boolean(),
});
export type WorkerHeartbeat = z.infer<typeof heartbeat>;

function parse<T>(schema: z.ZodType<T>, data: Uint8Array, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch {
    throw new StrataError(`a ${what} on the farm is not JSON`, { kind: 'build' });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StrataError(`a ${what} on the farm is malformed: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`, {
      kind: 'build',
    });
  }
  return parsed.data;
}

export const parseJobMessage = (data: Uint8Array): JobMessage => parse(jobMessage, data, 'job message');
export const parseResultMessage = (data: Uint8Array): ResultMessage => parse(resultMessage, data, 'result message');
export const parseHeartbeat = (data: Uint8Array): WorkerHeartbeat => parse(heartbeat, data, 'worker heartbeat');

export function encode(message: JobMessage | ResultMessage | WorkerHeartbeat): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message));
}

/** Relative, '/'-separated, no `..`, no empty parts: what a bundle may name as a path. */
function safeRelativePath(path: string): boolean {
  return path !== '' && !path.startsWith('/') && !path.includes('\0') && path.split('/').every((p) => p !== '' && p !== '.' && p !== '..');
}

const bundleFile = z.strictObject({
  path: z.string().refine(safeRelativePath, 'a relative path inside the job'),
  sha256,
  size: z.number().int().nonnegative(),
  mode: z.number().int().min(0).max(0o7777),
});

// Loose objects: a newer coordinator may add optional fields (executor.ts allows
// that within one BUNDLE_FORMAT), and the bytes were already verified by digest.
const bundle = z.looseObject({
  format: z.literal(BUNDLE_FORMAT),
  job: z.string().min(1),
  component: z.string().min(1),
  arch,
  noarch: z.boolean(),
  specFile: z.string().refine(safeRelativePath),
  sources: z.array(bundleFile),
  dependencyRpms: z.array(bundleFile),
  rpmConfig: z.array(bundleFile),
  rpmArgs: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  buildRoot: z.looseObject({
    type: z.enum(['host', 'tarball', 'oci']),
    id: z.string().min(1),
    provides: z.array(z.string()),
    archives: z.array(bundleFile),
  }),
  sourceDateEpoch: z.number().int(),
  check: z.boolean(),
  timeoutSeconds: z.number().positive(),
  recipe: z.string(),
  key: z.string().min(1),
});

/** A bundle's bytes (already verified against its digest) as a JobBundle, or why not. */
export function parseBundle(data: Uint8Array): JobBundle {
  return parse(bundle, data, 'job bundle') as JobBundle;
}
