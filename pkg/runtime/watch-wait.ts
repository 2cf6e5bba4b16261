// Waiting on an etcd watch and on promises with a deadline: every call to etcd has a timeout.
import type { Watcher } from 'etcd3';

/** Resolves when the watch is created on etcd's side; rejects on its first error. */
export function onceConnected(w: Watcher): Promise<void> {
  return new Promise((resolve, reject) => {
    w.once('connected', () => resolve());
    w.once('error', reject);
  });
}

/** Rejects after `ms` (the promise itself is left to settle on its own). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => { t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
