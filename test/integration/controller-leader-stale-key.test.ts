// An election key that no live lease keeps (an admin's `etcdctl put` of it, a restore, an older
// tool): it never expired, so no controller ever led and nothing was allocated, and nothing said
// why. A campaigning controller now warns, naming the key, deletes it (compared on its
// mod_revision) and leads; a holder whose lease lives is waited on as before. Run as the
// controller's etcd identity (TLS, auth): its role is what must allow the look-up and the delete.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { Controller } from '../../pkg/controller/controller.js';
import { Keys } from '../../pkg/store/keys.js';
import { removeStaleHolder, staleHolder } from '../../pkg/runtime/stale-holder.js';
import type { Logger } from '../../pkg/log.js';
import { eventually } from './helpers.js';

let etcd: TestEtcd;
let root: Etcd3;
beforeAll(async () => { etcd = await startEtcd({ auth: true }); root = etcd.client(); });
afterAll(async () => { await etcd?.stop(); });

// the controller's role reaches the default prefix only (pkg/auth/roles.ts)
const key = new Keys().election();

/** A logger that keeps the warnings (message and fields as one line). */
function warningsLog(): { log: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const none = () => undefined;
  const log = { level: 'warn', error: none, info: none, debug: none, log: none, warn: (m: string, f?: object) => warnings.push(`${m} ${JSON.stringify(f ?? {})}`) };
  return { log, warnings };
}

async function startAsController(id: string, log: Logger): Promise<Controller> {
  const c = new Controller({ client: etcd.auth!.clientAs(etcd.auth!.ids.controller), id, leaseTtlSeconds: 2, log });
  await c.start();
  return c;
}

const holderOf = async () => (await root.get(key).exec()).kvs[0];

describe('an election key no live lease keeps', () => {
  it('written without a lease: a controller warns naming the key, takes it over and leads', async () => {
    await root.put(key).value('restored-from-backup');
    expect(String((await holderOf()).lease)).toBe('0');
    const { log, warnings } = warningsLog();
    const c = await startAsController('c-stale', log);
    try {
      await eventually(async () => c.isLeader, 'the controller leading', 15_000);
      const kv = await holderOf();
      expect(kv.value.toString()).toBe('c-stale');
      expect(String(kv.lease)).not.toBe('0');
      const stale = warnings.filter((w) => w.includes(`election key ${key} is held with no lease`));
      expect(stale, warnings.join('\n')).toHaveLength(1);
      expect(stale[0]).toContain('restored-from-backup');
    } finally {
      await c.stop();
    }
  });

  it('held by a live lease: the controller waits, without a warning, and leads once that lease goes', async () => {
    const lease = root.lease(30, { autoKeepAlive: true });
    await lease.put(key).value('another-controller');
    const before = await holderOf();
    const { log, warnings } = warningsLog();
    const c = await startAsController('c-standby', log);
    try {
      // three of its lease TTLs: each a re-check of the key by the standing-by campaign
      await new Promise((r) => setTimeout(r, 6000));
      expect(c.isLeader).toBe(false);
      const now = await holderOf();
      expect([now.value.toString(), String(now.mod_revision)]).toEqual(['another-controller', String(before.mod_revision)]);
      expect(warnings.filter((w) => w.includes('election key'))).toEqual([]);
      await lease.revoke();
      await eventually(async () => c.isLeader, 'the controller leading once the holder\'s lease went', 15_000);
    } finally {
      await lease.revoke().catch(() => undefined);
      await c.stop();
    }
  });

  it('a holder whose lease etcd no longer has is stale; one whose lease lives is not (as the controller looks it up)', async () => {
    // etcd deletes a lease's keys with it, so such a key is met only as read before the lease
    // went (or restored without it): the look-up of that read is what decides
    const lease = root.lease(30, { autoKeepAlive: true });
    await lease.put(key).value('soon-gone');
    const read = await holderOf();
    const controller = etcd.auth!.clientAs(etcd.auth!.ids.controller);
    expect(await staleHolder(controller, read)).toBeUndefined();
    await lease.revoke();
    expect(await holderOf()).toBeUndefined();
    expect(await staleHolder(controller, read)).toBe(`lease ${String(read.lease)}, which etcd no longer has`);
  });

  it('a stale holder rewritten since it was read is not deleted', async () => {
    await root.put(key).value('hand-written');
    const seen = await holderOf();
    const lease = root.lease(30, { autoKeepAlive: true });
    try {
      await lease.put(key).value('a-real-holder');
      const controller = etcd.auth!.clientAs(etcd.auth!.ids.controller);
      expect(await removeStaleHolder(controller, key, seen)).toBe(false);
      expect((await holderOf()).value.toString()).toBe('a-real-holder');
    } finally {
      await lease.revoke().catch(() => undefined);
    }
  });
});
