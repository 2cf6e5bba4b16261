// xctl delete of a network, HostSubnet or Node in use, raced: another client applies a ContainerNic
// between xctl's in-use check and its delete. The transaction that deletes the network is held
// to the check (store DeleteGuard: a compare over the ContainerNic key range, and the network's
// own key, unchanged since the revision the check read at), so the NIC is seen: the check runs
// again and refuses. xctl runs in-process (runXctl) as etcd's xnet-admin user, auth on: the
// range compare reads every NIC key, which the role must allow. The other client's write lands
// right before one of xctl's transactions (a hook on xctl's client: by default its first that
// writes), which is after the check whether or not the delete is guarded: without the guard
// these tests fail (the --force one aside, which shows that nothing is held then).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Etcd3, ICompare } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { runXctl } from '../../pkg/cli/program.js';
import { Session } from '../../pkg/cli/connect.js';
import { prefixEnd } from '../../pkg/etcd/range.js';
import { ETCD_DEFAULT_LIMITS } from '../../pkg/etcd/limits.js';
import { STORE_TXN_RETRY } from '../../pkg/runtime/backoff.js';
import type { AnyObject } from '../../pkg/api/index.js';
import { obj, throughTxnHook, type TxnRequest } from './helpers.js';

let etcd: TestEtcd;
/** xctl's client and store, as the admin */
let client: Etcd3;
let store: EtcdStore;
/** the other writer, as the admin too */
let other: EtcdStore;

beforeAll(async () => {
  etcd = await startEtcd({ auth: true });
  const auth = etcd.auth!;
  client = auth.clientAs(auth.ids.admin);
  store = createEtcdStore(client);
  other = createEtcdStore(auth.clientAs(auth.ids.admin));
});
afterAll(async () => { await etcd?.stop(); });

interface Run { code: number; out: string; err: string; /** in-use checks xctl made (its lists of ContainerNics) */ checks: number }

/** xctl over `store`'s client, with the other client's `between` run before each of its transactions that `at` picks. */
async function xctl(args: string[], between?: () => Promise<unknown>, at: (req: TxnRequest) => boolean = writes): Promise<Run> {
  const r = { code: -1, out: '', err: '' };
  const session = vi.spyOn(Session.prototype, 'store').mockReturnValue(store);
  const lists = vi.spyOn(store, 'list');
  try {
    r.code = await throughTxnHook(client, async (req, send) => {
      if (between && at(req)) await between();
      return send(req);
    }, () => runXctl(args, { out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => '', env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') } }));
    return { ...r, checks: lists.mock.calls.filter(([kind]) => kind === 'ContainerNic').length };
  } finally {
    session.mockRestore();
    lists.mockRestore();
  }
}

/** A transaction that puts or deletes (the store's reads are transactions too). */
const writes = (req: TxnRequest) => !!req.success?.some((op) => op.request_put || op.request_delete_range);
/** A transaction that deletes `key`. */
const deletes = (key: string) => (req: TxnRequest) => !!req.success?.some((op) => op.request_delete_range?.key?.toString() === key);

/** Picks xctl's `n`th transaction (the store's reads are transactions too). */
function nth(n: number): () => boolean {
  let seen = 0;
  return () => ++seen === n;
}

/** Its first call runs `fn`, later calls nothing: the other writer's change, made once. */
function once(fn: () => Promise<unknown>): () => Promise<unknown> {
  let done = false;
  return async () => { if (!done) { done = true; await fn(); } };
}

const cn = (name: string) => obj('ClusterNetwork', name, { cidr: '10.130.0.0/16', hostPrefix: 24 });
const hs = (name: string, node: string, network: string) => obj('HostSubnet', name, { node, clusterNetwork: network });
const nicOn = (name: string, network: string, node = 'host-1') =>
  obj('ContainerNic', name, { node, container: `c-${name}`, ifName: 'eth1', network: { clusterNetwork: network } });
const apply = async (...objs: AnyObject[]) => { await other.applyAll(objs); };

/** xctl's refusal when nothing was deleted, as the tests of xctl-delete-in-use.test.ts expect it */
const inUse = (what: string, nics: string[]) => `conflict: ${what} is in use by ${nics.length} ContainerNic${nics.length === 1 ? '' : 's'} (${nics.join(', ')}): ` +
  'deleting it takes their addresses at once and their interfaces out of their containers; delete them first or in the same command, or pass --force';

describe('etcd: a Mod compare over a key range, as the delete guard writes it', () => {
  it('passes over an empty range and over keys not written since; fails once one was; an absent key and a deleted one pass', async () => {
    const prefix = `${store.keys.objects()}guardtest/`;
    const since = (rev: number, key: string, rangeEnd?: Buffer): ICompare =>
      ({ key: Buffer.from(key), ...(rangeEnd ? { range_end: rangeEnd } : {}), target: 'Mod', result: 'Less', mod_revision: String(rev + 1) });
    const holds = async (c: ICompare) => (await client.kv.txn({ compare: [c], success: [], failure: [] })).succeeded;
    const put = async (key: string) => Number((await client.put(key).value('x').exec()).header.revision);
    const range = (rev: number) => since(rev, prefix, prefixEnd(prefix));

    const r0 = await store.revision();
    expect(await holds(range(r0))).toBe(true);
    const r1 = await put(`${prefix}a`);
    expect(await holds(range(r1))).toBe(true);
    expect(await holds(range(r1 - 1))).toBe(false);
    const r2 = await put(`${prefix}b`);
    expect(await holds(range(r1))).toBe(false);
    // a key just past the range's end is not in it
    const r3 = await put(`${prefix.slice(0, -1)}0`);
    expect(r3).toBeGreaterThan(r2);
    expect(await holds(range(r2))).toBe(true);
    // a key deleted since is not seen (no NIC that is gone uses a network)
    await client.delete().key(`${prefix}b`).exec();
    expect(await holds(range(r1))).toBe(true);
    expect(await holds(since(r0, `${prefix}absent`))).toBe(true);
    expect(await holds(since(r0, `${prefix}a`))).toBe(false);
  });
});

describe('xctl delete held to its in-use check', () => {
  it('a NIC applied on the network after the check: the check runs again and refuses, naming it; nothing is deleted', async () => {
    await apply(cn('race-cn'));
    let after = 0;
    const r = await xctl(['delete', 'cn', 'race-cn'], once(async () => { await apply(nicOn('late', 'race-cn')); after = await other.revision(); }));
    expect(r).toEqual({ code: 3, out: '', err: `error: ${inUse('clusternetwork/race-cn', ['late'])}\nnothing was deleted\n`, checks: 2 });
    expect(await other.get('ClusterNetwork', 'race-cn')).toBeDefined();
    expect(after).toBeGreaterThan(0);
    expect(await other.revision()).toBe(after);
  });

  it('the same for a HostSubnet: a NIC applied on its node and ClusterNetwork', async () => {
    await apply(cn('race-hs'), hs('race-hs-host-1', 'host-1', 'race-hs'));
    const r = await xctl(['delete', 'hs', 'race-hs-host-1'], once(() => apply(nicOn('late-hs', 'race-hs'))));
    expect(r).toMatchObject({ code: 3, err: `error: ${inUse('hostsubnet/race-hs-host-1', ['late-hs'])}\nnothing was deleted\n`, checks: 2 });
    expect(await other.get('HostSubnet', 'race-hs-host-1')).toBeDefined();
  });

  it('the same for a Node: a NIC applied on it, whatever its network', async () => {
    await apply(obj('Node', 'race-node', {}));
    const r = await xctl(['delete', 'node', 'race-node'], once(() => apply(nicOn('late-node', 'any-net', 'race-node'))));
    expect(r).toMatchObject({ code: 3, out: '', err: `error: ${inUse('node/race-node', ['late-node'])}\nnothing was deleted\n`, checks: 2 });
    expect(await other.get('Node', 'race-node')).toBeDefined();
  });

  it('a network created after the check found none: its delete waits for a check that sees it', async () => {
    // a NIC names the network before it exists; the first check finds no network to hold
    await apply(nicOn('haunt', 'ghost2'));
    // made after the check, before the delete reads what it deletes: xctl's second transaction
    // (the check reads the network in its first, after the NICs)
    const r = await xctl(['delete', 'cn', 'ghost2'], once(() => apply(cn('ghost2'))), nth(2));
    expect(r).toMatchObject({ code: 3, err: `error: ${inUse('clusternetwork/ghost2', ['haunt'])}\nnothing was deleted\n`, checks: 2 });
    expect(await other.get('ClusterNetwork', 'ghost2')).toBeDefined();
  });

  it('another NIC change after the check (a NIC on another network): the check runs again, finds the network free, and it goes', async () => {
    await apply(cn('free'));
    const r = await xctl(['delete', 'cn', 'free'], once(() => apply(nicOn('bystander', 'elsewhere'))));
    expect(r).toEqual({ code: 0, out: 'clusternetwork/free deleted\n', err: '', checks: 2 });
    expect(await other.get('ClusterNetwork', 'free')).toBeUndefined();
    expect(await other.get('ContainerNic', 'bystander')).toBeDefined();
  });

  it(`NICs that change before every try: a conflict (exit 3) after ${STORE_TXN_RETRY.maxAttempts} tries; the network stays`, async () => {
    await apply(cn('busy'));
    let n = 0;
    const r = await xctl(['delete', 'cn', 'busy'], () => apply(nicOn(`churn-${n++}`, 'elsewhere')));
    expect(r).toMatchObject({ code: 3, out: '', checks: STORE_TXN_RETRY.maxAttempts });
    expect(r.err).toBe('error: ClusterNetwork "busy": it, or the ContainerNic objects its delete was checked against, kept changing while it was being deleted; ' +
      'it was not deleted; run the delete again\n');
    expect(n).toBe(STORE_TXN_RETRY.maxAttempts);
    expect(await other.get('ClusterNetwork', 'busy')).toBeDefined();
  });

  it('several networks in the transaction that kept failing: the conflict names each, none was deleted', async () => {
    const few = ['busy-a', 'busy-b', 'busy-c'];
    const many = Array.from({ length: 8 }, (_, i) => `busy-m${i}`);
    await other.applyAll([...few, ...many].map((n, i) => obj('ClusterNetwork', n, { cidr: `10.${110 + i}.0.0/16`, hostPrefix: 24 })));
    let n = 0;
    const churn = () => apply(nicOn(`churn-many-${n++}`, 'elsewhere'));
    const kept = 'it, or the ContainerNic objects its delete was checked against, kept changing while it was being deleted; it was not deleted';
    const r = await xctl(['delete', ...few.map((c) => `cn/${c}`)], churn);
    expect(r).toMatchObject({ code: 3, out: '' });
    expect(r.err).toBe(`error: ClusterNetwork "busy-a": ${kept}, nor were clusternetwork/busy-b and clusternetwork/busy-c, held to the same check in the same transaction; run the delete again\n`);
    // past five, the rest are counted
    const m = await xctl(['delete', ...many.map((c) => `cn/${c}`)], churn);
    expect(m).toMatchObject({ code: 3, out: '' });
    expect(m.err).toBe(`error: ClusterNetwork "busy-m0": ${kept}, nor were ${many.slice(1, 6).map((c) => `clusternetwork/${c}`).join(', ')} and 2 more, ` +
      'held to the same check in the same transaction; run the delete again\n');
    for (const c of [...few, ...many]) expect(await other.get('ClusterNetwork', c), c).toBeDefined();
  });

  it('--force holds nothing: a NIC applied after the check does not stop the delete', async () => {
    await apply(cn('forced'));
    const r = await xctl(['delete', 'cn', 'forced', '--force'], once(() => apply(nicOn('late-forced', 'forced'))));
    expect(r).toEqual({ code: 0, out: 'clusternetwork/forced deleted\n', err: '', checks: 1 });
    expect(await other.get('ClusterNetwork', 'forced')).toBeUndefined();
  });
});

describe('xctl delete held to its in-use check, split over transactions', () => {
  // 6 ops per transaction: three NICs marked (two puts each: the object and its copy in its
  // node's index) fill one; the network's delete is the next
  const small = { ...ETCD_DEFAULT_LIMITS, maxTxnOps: 6 };
  const withSmallTxns = async <T>(fn: () => Promise<T>): Promise<T> => {
    store.limits = small;
    try { return await fn(); } finally { store.limits = ETCD_DEFAULT_LIMITS; }
  };

  it('its NICs, marked in an earlier transaction of the same delete, fail the guard: the check runs again and the network goes', async () => {
    await apply(cn('split'), ...['s1', 's2', 's3'].map((n) => nicOn(n, 'split')));
    const r = await withSmallTxns(() => xctl(['delete', 'nic/s1', 'nic/s2', 'nic/s3', 'cn/split']));
    expect(r).toMatchObject({ code: 0, out: 'containernic/s1 deleted\ncontainernic/s2 deleted\ncontainernic/s3 deleted\nclusternetwork/split deleted\n', checks: 2 });
    expect(r.err).toContain('4 objects in 2 transactions');
    expect(await other.get('ClusterNetwork', 'split')).toBeUndefined();
  });

  it('a NIC applied before the transaction that deletes the network: refused there; what went before stays, the network stays', async () => {
    await apply(cn('split2'), ...['t1', 't2', 't3'].map((n) => nicOn(n, 'split2')));
    const at = deletes(store.keys.object('ClusterNetwork', 'split2'));
    const r = await withSmallTxns(() => xctl(['delete', 'nic/t1', 'nic/t2', 'nic/t3', 'cn/split2'], once(() => apply(nicOn('late2', 'split2'))), at));
    expect(r).toMatchObject({ code: 3, out: '' });
    expect(r.err).toBe('error: delete stopped after 1 of 2 transactions: 3 of 4 objects deleted (the first 3 in the order listed are done, up to and including containernic/t3): ' +
      `${inUse('clusternetwork/split2', ['late2'])}\nWhat was deleted stays. Re-running the same delete converges once those ContainerNics are deleted first or in the same command, ` +
      'or with --force (add --ignore-not-found so that what is already gone is not an error).\n');
    // as it says: the same delete again is refused while late2 uses the network
    expect(await withSmallTxns(() => xctl(['delete', 'nic/t1', 'nic/t2', 'nic/t3', 'cn/split2']))).toMatchObject({ code: 3 });
    expect(await other.get('ClusterNetwork', 'split2')).toBeDefined();
    for (const n of ['t1', 't2', 't3']) expect((await other.get('ContainerNic', n))?.metadata.deletionTimestamp).toBeTruthy();
  });
});

describe('xctl delete held to its in-use check, packed', () => {
  // 60 ClusterNetworks: two deletes each (120 ops) and, held, two compares each plus the one
  // ContainerNic range compare they share (121 compares sent): one stock-etcd transaction, as
  // without the guard (one compare each). Counted per network, the shared compare made 180
  // and split the delete in two, so that it was no longer all or nothing.
  it('a delete of 60 networks still fits one transaction: the shared range compare is counted once', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `packed-${i}`);
    await other.applyAll(names.map((n, i) => obj('ClusterNetwork', n, { cidr: `10.${140 + i}.0.0/16`, hostPrefix: 24 })));
    let txns = 0;
    const r = await xctl(['delete', ...names.map((n) => `cn/${n}`)], async () => { txns++; });
    expect(r).toEqual({ code: 0, out: names.map((n) => `clusternetwork/${n} deleted\n`).join(''), err: '', checks: 1 });
    expect(txns, 'transactions that wrote').toBe(1);
    for (const n of names) expect(await other.get('ClusterNetwork', n)).toBeUndefined();
  });

  it('64 networks held (129 compares sent, 128 ops) are split as etcd\'s --max-txn-ops needs', async () => {
    const names = Array.from({ length: 64 }, (_, i) => `packed64-${i}`);
    await other.applyAll(names.map((n, i) => obj('ClusterNetwork', n, { cidr: `10.${200 + Math.floor(i / 4)}.${(i % 4) * 64}.0/18`, hostPrefix: 24 })));
    const r = await xctl(['delete', ...names.map((n) => `cn/${n}`)]);
    expect(r).toMatchObject({ code: 0, err: '64 objects in 2 transactions: 64 deleted, 0 not found\n' });
    for (const n of names) expect(await other.get('ClusterNetwork', n)).toBeUndefined();
  });
});
