/**
 * Failures that pass. On a JetStream cluster, a stream whose leader's node
 * went away answers nothing (a timeout) or is not there to answer (no
 * responders, 503) until its other replicas elect a new leader, which takes
 * nats-server a few seconds. A request that fails that way is worth making
 * again; any other failure is reported as it is.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { JetStreamApiError } from '@nats-io/jetstream';

/** How long a request is retried while it fails transiently (a leader election takes seconds, not minutes). */
export const TRANSIENT_RETRY_MS = 30_000;

export function isTransient(error: unknown): boolean {
  if (error instanceof TimeoutError || error instanceof NoRespondersError) return true;
  if (error instanceof RequestError && error.isNoResponders()) return true;
  // "JetStream system temporarily unavailable", and the like.
  if (error instanceof JetStreamApiError && error.status === 503) return true;
  return error instanceof Error && error.cause !== undefined && error.cause !== error && isTransient(error.cause);
}

/** Runs `attempt` again, with growing pauses, while it fails transiently and `withinMs` has not passed. */
export async function retryTransient<T>(attempt: () => Promise<T>, withinMs = TRANSIENT_RETRY_MS): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (let pause = 250; ; pause = Math.min(pause * 2, 2000)) {
    try {
      return await attempt();
    } catch (error) {
      if (!isTransient(error) || Date.now() + pause > deadline) throw error;
      await sleep(pause);
    }
  }
}
