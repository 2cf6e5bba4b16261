// A MacvlanNet's own per-node claim that another writer changes between the controller's read
// and its commit is never deleted or overwritten blind: the release of an address a node
// returned, the external mark of one it reported in use outside xnet, and the delete of a shim
// no longer wanted each carry the claim as cached, so the transaction fails its compare and is
// planned again from what etcd holds. Found by review: those three wrote with no compare.
// Real etcd, in-process controller; the nodes' agents are their status keys, written by the
// test; the other writer's change is made by a hook on the controller's client, just before
// the transaction that writes the claim is sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import type { Controller } from '../../pkg/controller/controller.js';
import type { EtcdStore } from '../../pkg/store/index.js';
import { IpamKeys, type Claim } from '../../pkg/ipam/keys.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import type { NodeIpamReport } from '../../pkg/dockeripam/report.js';
import { throughTxnHook, type TxnRequest } from './helpers.js';
import { beat, obj, eventually, startController, storeFor, uniquePrefix, statusOf } from './controller-helpers.js';

let etcd: TestEtcd;
/** the controller's client (its transactions go through the hook) and the other writer's */
let ctl: Etcd3;
let other: Etcd3;
let c: Controller | undefined;
let store: EtcdStore;
const prefix = uniquePrefix();
beforeAll(async () => {
  etcd = await startEtcd();
  ctl = etcd.client();
  other = etcd.client();
  store = storeFor(other, prefix);
  c = await startController(ctl, prefix);
});
afterAll(async () => {
  await Promise.race([c?.stop(), new Promise((r) => setTimeout(r, 5000))]).catch(() => undefined);
  await etcd?.stop();
});

type Part = { name: string; shimAddress?: string; addresses?: string[] };
const partOf = async (mvn: string, node: string) => ((statusOf(await store.get('MacvlanNet', mvn)).nodes as Part[] | undefined) ?? []).find((p) => p.name === node);
const claimKey = (mvn: string, ip: string) => new IpamKeys(prefix).claim('macvlannets', mvn, 'addresses', parseIPv4(ip));
const claimAt = async (key: string) => (await other.get(key).json()) as Claim | null;
const report = async (mvn: string, node: string, ipam: Partial<NodeIpamReport>) => {
  await beat(store, node);
  await store.writeStatus('MacvlanNet', mvn, { node }, { ready: true, ipam: { assigned: [], returned: [], external: [], requested: [], want: 0, ...ipam } });
};

const deletes = (req: TxnRequest, key: string) => !!req.success?.some((op) => op.request_delete_range?.key?.toString() === key);
const marksExternal = (req: TxnRequest, key: string) =>
  !!req.success?.some((op) => op.request_put?.key?.toString() === key && op.request_put.value?.toString().includes('"external"'));

/**
 * Runs `body` with the controller's client hooked: the first transaction that `writes` the
 * claim at `key` is sent only after the other writer has changed that claim to `changed(claim)`.
 * Resolves with whether that happened.
 */
async function changedBeforeCommit(key: string, writes: (req: TxnRequest, key: string) => boolean, changed: (c: Claim) => Claim, body: () => Promise<void>): Promise<boolean> {
  let raced = false;
  await throughTxnHook(ctl, async (req, send) => {
    if (!raced && writes(req, key)) {
      raced = true;
      await other.put(key).value(JSON.stringify(changed((await claimAt(key))!)));
    }
    return send(req);
  }, body);
  return raced;
}

/** A MacvlanNet on two nodes, once each holds its 8 pre-claimed addresses: their parts. */
async function twoNodes(mvn: string, subnet: string, hostShim: boolean): Promise<[Part, Part]> {
  const [a, b] = [`${mvn}-a`, `${mvn}-b`];
  await store.applyAll([
    obj('MacvlanNet', mvn, { subnet, dockerIPAM: 'xnet', hostShim, nodeSelector: { matchLabels: { net: mvn } } }),
    obj('Node', a, { interface: 'eth0' }, { net: mvn }),
    obj('Node', b, { interface: 'eth0' }, { net: mvn }),
  ]);
  // their agents start: a node whose agent never reported gets no pre-claims
  for (const n of [a, b]) await beat(store, n);
  const ready = async (n: string) => { const p = await partOf(mvn, n); return p?.addresses?.length === 8 && (!hostShim || p.shimAddress) ? p : undefined; };
  return [await eventually(() => ready(a), `${a} holds 8`), await eventually(() => ready(b), `${b} holds 8`)];
}

describe('a MacvlanNet per-node claim changed by another writer before the controller commits', () => {
  // the node's report that makes the controller write the claim: a returned address (released),
  // one in use outside xnet (marked external)
  it.each([
    ['deleted by the release of the address the node returned', 'mvrel', '10.81.0.0/24', deletes, 'returned'],
    ['overwritten by the external mark of an address the node reported in use outside xnet', 'mvext', '10.82.0.0/24', marksExternal, 'external'],
  ] as const)('is not %s', async (_, mvn, subnet, write, field) => {
    const [a] = await twoNodes(mvn, subnet, false);
    const ip = a.addresses![0];
    const key = claimKey(mvn, ip);
    const raced = await changedBeforeCommit(key, write, (cl) => ({ ...cl, node: `${mvn}-b` }), async () => {
      await report(mvn, `${mvn}-a`, { [field]: [ip] });
      await eventually(async () => !(await partOf(mvn, `${mvn}-a`))?.addresses?.includes(ip), `${mvn}-a no longer holds it`);
    });
    expect(raced).toBe(true);
    expect(await claimAt(key)).toMatchObject({ role: 'node-pool', ip, node: `${mvn}-b` });
    await eventually(async () => (await partOf(mvn, `${mvn}-b`))?.addresses?.includes(ip), `${mvn}-b holds it`);
  });

  it('is not deleted with the shim when hostShim is turned off', async () => {
    const [a] = await twoNodes('mvshim', '10.83.0.0/24', true);
    const ip = a.shimAddress!;
    const key = claimKey('mvshim', ip);
    const spec = { subnet: '10.83.0.0/24', dockerIPAM: 'xnet', hostShim: false, nodeSelector: { matchLabels: { net: 'mvshim' } } };
    const raced = await changedBeforeCommit(key, deletes, (cl) => ({ ...cl, role: 'node-pool' }), async () => {
      await store.applyAll([obj('MacvlanNet', 'mvshim', spec)]);
      await eventually(async () => { const p = await partOf('mvshim', 'mvshim-a'); return p && !p.shimAddress; }, 'mvshim-a has no shim');
    });
    expect(raced).toBe(true);
    expect(await claimAt(key)).toMatchObject({ role: 'node-pool', ip, node: 'mvshim-a' });
    await eventually(async () => (await partOf('mvshim', 'mvshim-a'))?.addresses?.includes(ip), 'mvshim-a holds it in its pool');
  });
});
