// Whether a failed etcd request may have reached etcd. etcd3 sends a unary request up to three
// times (client.ts etcdFaultHandling) and throws the last attempt's error only: a transaction
// whose first attempt was sent and whose answer was lost can end in "No connection established"
// on the next. So each attempt's failure is noted (client.ts instrument), and a request is known
// to have had no effect only when every attempt of it failed so: no connection could be made
// for it (gRPC fails such a call before sending it) or etcd refused it without effect.
// txn-writer.ts tells by it whether a write's outcome is unknown.
import { AsyncLocalStorage } from 'node:async_hooks';

/** The failed attempts of the requests made in `trackAttempts`, and whether one may have reached etcd. */
export interface Attempts { failed: number; mayHaveReached: boolean }

/**
 * Whether none of them reached etcd: attempts failed, each without reaching it. None noted
 * (a client not made by createEtcdClient notes none) tells nothing: they may have.
 */
export const noneReached = (a: Attempts): boolean => a.failed > 0 && !a.mayHaveReached;

/**
 * Disabled whenever no tracked call is in flight (as heal.ts's): while an AsyncLocalStorage is
 * enabled, Node runs a hook on every promise of the process, and a process that wrote through
 * the store once (a test or a benchmark that applies objects, then runs a controller in the
 * same process) paid it on every gRPC call and every work item after.
 */
const current = new AsyncLocalStorage<Attempts>();
let tracking = 0;

/** `call()`, each failed attempt of the etcd requests it makes noted in `attempts` (client.ts instrument). */
export async function trackAttempts<T>(attempts: Attempts, call: () => Promise<T>): Promise<T> {
  tracking++;
  try {
    return await current.run(attempts, call);
  } finally {
    if (--tracking === 0) current.disable();
  }
}

/** One attempt of a request failed; `withoutEffect`: it certainly did not reach etcd, or etcd refused it without effect. */
export function attemptFailed(withoutEffect: boolean): void {
  const attempts = current.getStore();
  if (!attempts) return;
  attempts.failed++;
  if (!withoutEffect) attempts.mayHaveReached = true;
}
