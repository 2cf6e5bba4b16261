// A delete planned again (its transaction's answer lost, or another writer's change between the
// read and the commit) deletes the stored object key it read, and only it (real etcd). The key
// is told by its create_revision, not by its uid: a key that does not decode has no uid to hold
// it, and a key overwritten with a value that does not decode is still the object read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startStoreEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { cn, throughTxnHook, type TxnRequest } from './helpers.js';

let etcd: TestEtcd;
let client: Etcd3;
let store: EtcdStore;
/** another writer (the controller, or a tool writing around xctl), on a client of its own */
let other: Etcd3;
beforeAll(async () => { ({ etcd, client, store } = await startStoreEtcd()); other = etcd.client(); });
afterAll(async () => { await etcd?.stop(); });

const key = (name: string) => store.keys.object('ClusterNetwork', name);
const stored = async (name: string) => other.get(key(name)).string();
const touches = (req: TxnRequest, k: string) =>
  (req.success ?? []).some((op) => (op.request_delete_range ?? op.request_put)?.key?.toString() === k);

/**
 * Deletes `names`; before the first transaction that writes `name`'s key, runs `race` (with
 * `committed`: after that transaction committed, its answer then lost and the transaction sent
 * again, as etcd3 sends a call again after a transport error).
 */
async function deleteRacing(names: string[], name: string, committed: boolean, race: () => Promise<unknown>, onUids?: (u: Array<string | undefined>) => void) {
  let raced = false;
  const results = await throughTxnHook(client, async (req, send) => {
    if (raced || !touches(req, key(name))) return send(req);
    raced = true;
    if (!committed) { await race(); return send(req); }
    await send(req);
    await race();
    return send(req);
  }, () => store.deleteAll(names.map((n) => ({ kind: 'ClusterNetwork' as const, name: n })), { onUids }));
  expect(raced, 'the other writer wrote between the read and the commit').toBe(true);
  return results;
}

const good = (name: string, uid: string) => JSON.stringify({ ...cn(name, '10.61.0.0/16'), metadata: { name, uid } });

describe('a delete planned again', () => {
  it('of an object made again under its name after its delete committed leaves the new one, and says deleted with the uid read', async () => {
    const [first] = await store.applyAll([cn('again0', '10.60.0.0/16')]);
    const made = good('again0', '60606060-0000-4000-8000-000000000000');
    let uids: Array<string | undefined> = [];
    const results = await deleteRacing(['again0'], 'again0', true, async () => { await other.put(key('again0')).value(made); }, (u) => { uids = u; });
    expect(results).toEqual(['deleted']);
    expect(uids).toEqual([first.object.metadata.uid]);
    expect(await stored('again0')).toBe(made);
  });

  it('of a key that does not decode leaves the object made again under its name after its delete committed', async () => {
    await other.put(key('bad1')).value('{}');
    const made = good('bad1', '61616161-0000-4000-8000-000000000001');
    const results = await deleteRacing(['bad1'], 'bad1', true, async () => { await other.put(key('bad1')).value(made); });
    expect(results).toEqual(['deleted']);
    expect(await stored('bad1')).toBe(made);
  });

  it('of an object overwritten meanwhile with a value that does not decode deletes its key, not "deleted" of a key still there', async () => {
    await store.applyAll([cn('flip2', '10.62.0.0/16')]);
    const results = await deleteRacing(['flip2'], 'flip2', false, async () => { await other.put(key('flip2')).value('{"kind":7}'); });
    expect(results).toEqual(['deleted']);
    expect(await stored('flip2')).toBeNull();
  });

  it('of a name that did not exist when read leaves the object made under it since (not found, as read)', async () => {
    await store.applyAll([cn('here3', '10.63.0.0/16')]);
    const made = good('late3', '63636363-0000-4000-8000-000000000003');
    // another writer's change to here3 fails the transaction (it also holds late3's "not found"), which is planned again
    const results = await deleteRacing(['here3', 'late3'], 'here3', false, async () => {
      await createEtcdStore(other).applyAll([cn('here3', '10.63.0.0/16')].map((o) => ({ ...o, metadata: { ...o.metadata, labels: { edited: 'yes' } } })));
      await other.put(key('late3')).value(made);
    });
    expect(results).toEqual(['deleted', 'notfound']);
    expect(await stored('here3')).toBeNull();
    expect(await stored('late3')).toBe(made);
  });
});
