// Shared by the controller integration tests: a real etcd, the real store, in-process
// controllers, and polling for user-visible outcomes (keys and statuses in etcd).
import type { Etcd3 } from 'etcd3';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/index.js';
import { Controller, type ControllerOptions } from '../../pkg/controller/controller.js';
import { createLogger } from '../../pkg/log.js';
import { API_VERSION, type AnyObject } from '../../pkg/api/index.js';

export function obj(kind: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): AnyObject {
  return { apiVersion: API_VERSION, kind, metadata: { name, ...(labels ? { labels } : {}) }, spec } as AnyObject;
}

export function quietLog(id: string) {
  const l = createLogger('controller', { id });
  l.level = process.env.XNET_LOG_LEVEL ?? 'error';
  return l;
}

export async function startController(client: Etcd3, prefix: string, extra: Partial<ControllerOptions> = {}): Promise<Controller> {
  const id = extra.id ?? `c-${Math.random().toString(36).slice(2, 8)}`;
  const c = new Controller({ client, prefix, id, leaseTtlSeconds: 2, log: quietLog(id), ...extra });
  await c.start();
  return c;
}

/** Polls until fn returns a truthy value; fails with the last value seen. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function storeFor(client: Etcd3, prefix: string): EtcdStore {
  return createEtcdStore(client, prefix);
}

export function uniquePrefix(): string {
  return `/xt${Math.random().toString(36).slice(2, 8)}`;
}
