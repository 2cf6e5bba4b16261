// Waiting on an etcd watch and on promises with a deadline: every call to etcd has a timeout.
import { ClientClosedError, type Watcher } from 'etcd3';
import { EtcdUnavailableError } from '../errors.js';

/**
 * Resolves when the watch is created on etcd's side; rejects on its first error, and on a
 * disconnect caused by its client being closed (etcd3 keeps re-establishing a broken stream,
 * so any other disconnect is waited out; a closed client would only be waited out until the
 * caller's timeout).
 */
export function onceConnected(w: Watcher): Promise<void> {
  return new Promise((resolve, reject) => {
    // 'error' stays a once-listener, as before: an error with no listener at all would throw
    const onDisconnected = (err: Error) => { if (err instanceof ClientClosedError) reject(err); };
    w.once('connected', () => { w.off('disconnected', onDisconnected); resolve(); });
    w.once('error', (err: Error) => { w.off('disconnected', onDisconnected); reject(err); });
    w.on('disconnected', onDisconnected);
  });
}

/**
 * Rejects after `ms` (the promise itself is left to settle on its own), with `timedOut`'s error:
 * a plain Error, or for a call to etcd etcdSilent's.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string, timedOut = (message: string): Error => new Error(message)): Promise<T> {
  let t: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => { t = setTimeout(() => reject(timedOut(`${what} timed out after ${ms} ms`)), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** An etcd that did not answer in time is one that cannot be reached, as a deadline passed is (etcd/errors.ts). */
export const etcdSilent = (message: string): Error => new EtcdUnavailableError(message);
