// The ONE place that knows how etcd3 and gRPC report failures. Everything else asks
// fromEtcdError(e) and branches on the XnetError class it gets back (../errors.ts).
import {
  ClientClosedError, EtcdAuthenticationFailedError, EtcdInvalidAuthTokenError, EtcdPermissionDeniedError,
  GRPCDeadlineExceededError, GRPCUnauthenticatedError, GRPCUnavailableError,
} from 'etcd3';
import { isBrokenCircuitError } from 'cockatiel';
import { EtcdCompactedError, EtcdPermissionError, EtcdUnavailableError, XnetError } from '../errors.js';

// etcd reports a compacted revision only in text: in a Range error and in a canceled watch's
// cancel_reason ("etcdserver: mvcc: required revision has been compacted").
const COMPACTED_TEXT = /compacted/i;
// Connection failures that reach us untyped: grpc-js status text and Node socket errnos.
const UNAVAILABLE_TEXT = /ECONNREFUSED|EHOSTUNREACH|ENOTFOUND|No connection established|failed to connect|Deadline exceeded|UNAVAILABLE/i;

// What a request fails with when no connection could be made for it: gRPC fails it before
// sending it ("No connection established. Last error: ..."), or a Node socket errno of connect.
const NOT_CONNECTED_TEXT = /No connection established|ECONNREFUSED|EHOSTUNREACH|ENOTFOUND|failed to connect/i;

/**
 * Whether `e` says that the request never reached etcd (no connection could be made for it, or
 * every host's circuit was open: etcd3 refuses the call before it sends it, client.ts).
 */
export function neverSent(e: unknown): boolean {
  return isBrokenCircuitError(e) || (e instanceof Error && NOT_CONNECTED_TEXT.test(e.message ?? ''));
}

/**
 * Maps what etcd3 (or gRPC under it) threw to an XnetError; XnetErrors pass through unchanged.
 * Returns undefined for anything that is not an etcd failure it recognises.
 */
export function fromEtcdError(e: unknown): XnetError | undefined {
  if (e instanceof XnetError) return e;
  if (!(e instanceof Error)) return undefined;
  const msg = e.message ?? '';
  // An open circuit (a client of several members, after calls to each failed in a row) is etcd
  // unreachable as a refused connection is: no call was made. Unmapped, a KvCache took it for an
  // answer and relisted instead of resuming (cache-restarts.ts), and xctl exited 1, not 5.
  if (e instanceof GRPCUnavailableError || e instanceof GRPCDeadlineExceededError || e instanceof ClientClosedError || isBrokenCircuitError(e)) {
    return new EtcdUnavailableError(msg, e);
  }
  if (e instanceof EtcdPermissionDeniedError || e instanceof EtcdAuthenticationFailedError
    || e instanceof EtcdInvalidAuthTokenError || e instanceof GRPCUnauthenticatedError) {
    return new EtcdPermissionError(msg, e);
  }
  if (COMPACTED_TEXT.test(msg)) return new EtcdCompactedError(msg, e);
  if (UNAVAILABLE_TEXT.test(msg)) return new EtcdUnavailableError(msg, e);
  return undefined;
}

/** fromEtcdError(e), or e itself when it is not an etcd failure. */
export function asXnetError(e: unknown): unknown {
  return fromEtcdError(e) ?? e;
}
