// Shared by the controller integration tests: a real etcd, the real store, in-process
// controllers, and polling for user-visible outcomes (keys and statuses in etcd).
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, expect } from 'vitest';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/index.js';
import { Controller, type ControllerOptions } from '../../pkg/controller/controller.js';
import { createLogger } from '../../pkg/log.js';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import type { Condition } from '../../pkg/api/fields.js';
import type { MacvlanNodeStatus } from '../../pkg/api/index.js';

import { eventually } from './helpers.js';

export { obj, eventually } from './helpers.js';

/** An object's merged status as the tests read it (untyped fields, typed conditions). */
export type Status = Record<string, unknown> & { conditions?: Condition[] };
export const statusOf = (o: { status?: unknown } | undefined) => (o?.status ?? {}) as Status;
/** A MacvlanNet's entry of `node` in its status.nodes[], as readers join it. */
export const macvlanEntryOf = (o: { status?: unknown } | undefined, node: string) => (statusOf(o).nodes as MacvlanNodeStatus[] | undefined)?.find((n) => n.name === node);

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

export function storeFor(client: Etcd3, prefix: string): EtcdStore {
  return createEtcdStore(client, prefix);
}

/** A test file's real etcd, a store and a running controller, all under `prefix`. */
export async function startControllerFixture(prefix: string, extra: Partial<ControllerOptions> = {}): Promise<{ etcd: TestEtcd; store: EtcdStore; c: Controller }> {
  const etcd = await startEtcd();
  try {
    return { etcd, store: storeFor(etcd.client(), prefix), c: await startController(etcd.client(), prefix, extra) };
  } catch (e) {
    // the caller never gets this etcd to stop when the controller fails to start
    await etcd.stop();
    throw e;
  }
}

export interface ControllerFixture { etcd: TestEtcd; store: EtcdStore; c: Controller }

/** startControllerFixture before the file's tests, stopped after them: read its fields in tests. */
export function useControllerFixture(prefix: string, extra: Partial<ControllerOptions> = {}): ControllerFixture {
  const fx = {} as ControllerFixture;
  beforeAll(async () => { Object.assign(fx, await startControllerFixture(prefix, extra)); });
  // etcd is stopped also when stopping the controller throws
  afterAll(async () => { try { await fx.c?.stop(); } finally { await fx.etcd?.stop(); } });
  return fx;
}

/**
 * The controller's work-queue retry of a waiting key out of reach (ControllerOptions.waitBackoff):
 * a key that waits is looked at again an hour later, longer than any test file runs, so what a
 * test sees happen was woken by an event (a wake test: docs/contributing.md), never by a retry.
 * A reconcile that failed otherwise (a transient etcd error in the set-up) is still retried in
 * 50 ms: nothing else would look at it again.
 */
export const WAKE_TEST_BACKOFF = { initialMs: 3_600_000 };

/**
 * A wake test's outcome proves the wake only in the term that saw the wait: a new term (a lease
 * lost while the machine is loaded: leaseTtlSeconds 2 here) queues every key when it starts,
 * which brings the result with the wake broken.
 */
export function expectOneTerm(c: Pick<Controller, 'termsLed'>): void {
  expect(c.termsLed, 'terms led: a new term looks at every key again, so the outcome proves no wake').toBe(1);
}

export interface KeysFixture { etcd: TestEtcd; store: EtcdStore; prefix: string; put(key: string, value: unknown): Promise<unknown> }

/**
 * A real etcd and a store under a prefix of the file's own, for tests that write keys as the
 * controller would (no controller runs): started before the file's tests, stopped after them.
 */
export function useKeysFixture(): KeysFixture {
  const fx = { prefix: uniquePrefix(), put: (key: string, value: unknown) => fx.etcd.client().put(key).value(JSON.stringify(value)).exec() } as KeysFixture;
  beforeAll(async () => { fx.etcd = await startEtcd(); fx.store = storeFor(fx.etcd.client(), fx.prefix); });
  afterAll(async () => { await fx.etcd?.stop(); });
  return fx;
}

export function uniquePrefix(): string {
  return `/xt${Math.random().toString(36).slice(2, 8)}`;
}

/** What a node's agent writes about itself each heartbeat: its address, Ready. */
export function nodeHeartbeat(address: string): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    address, interface: 'eth0', agentVersion: 'test', lastHeartbeatTime: now,
    conditions: [{ type: 'Ready', status: 'True', reason: 'AgentReady', message: 'ok', lastTransitionTime: now }],
  };
}

/**
 * A fake agent's report about itself, written before its reports on objects as a real agent
 * beats before it reports (heartbeat.ts): a node with reports and none about itself ran and
 * stopped, and the controller counts it lost (macvlan-agent.ts agentLost).
 */
export const beat = (store: EtcdStore, node: string): Promise<void> =>
  store.writeStatus('Node', node, { node }, { lastHeartbeatTime: new Date().toISOString() });

/** Waits until the object's merged status passes `pred`; returns the object. */
export function statusWaiter(fx: ControllerFixture) {
  return (kind: string, name: string, pred: (s: Status) => boolean, what: string) =>
    eventually(async () => { const o = await fx.store.get(kind as never, name); return pred(statusOf(o)) ? o : undefined; }, what);
}
