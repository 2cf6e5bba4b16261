// A gone HostSubnet's block stays claimed while its node's report on it is there (the agent
// keeps it until the Docker network is off the host): controller/hostsubnet-leaving.ts in the
// delete path, the garbage pass and a re-created HostSubnet of that node. The plans run on the
// controller's real cache and admission, seeded in memory (as controller-unreadable.test.ts).
import { describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { Model } from '../../pkg/controller/model.js';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { collectGarbage } from '../../pkg/controller/gc.js';
import { planHostSubnet } from '../../pkg/controller/hostsubnets.js';
import { controllerAdmit } from '../../pkg/controller/admit.js';
import type { Ctx } from '../../pkg/controller/context.js';
import { Keys } from '../../pkg/store/keys.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { API_VERSION } from '../../pkg/api/index.js';
import { createLogger } from '../../pkg/log.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';

const P = '/x';
// what an agent that removes its report once the network is off the host writes into it
const MARK = { keptUntilNetworkGone: true };
const leaderKey = `${P}/election/controller`;
const guard = { key: Buffer.from(leaderKey), target: 'Create' as const, result: 'Equal' as const, create_revision: '7' };
const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: '1000' }, responses: [] }) } } as unknown as Etcd3;
const deletes = (plan: TxnPlan) => (plan as unknown as { dels: string[] }).dels;
const puts = (plan: TxnPlan) => (plan as unknown as { puts: Array<{ key: string }> }).puts.map((p) => p.key);

/** ClusterNetwork c (10.76.0.0/23: two /24 blocks), Node n1, and the block 10.76.0.0/24 claimed by HostSubnet c-n1 of uid `old`, which is gone. */
function fixture() {
  const log = createLogger('test'); log.level = 'error';
  const keys = new Keys(P);
  const cache = new KvCache(client, [`${P}/registry/`, `${P}/ipam/`], { log, admit: controllerAdmit(keys, new IpamKeys(P)) });
  const model = new Model(cache, P);
  let rev = 10;
  const raw = (key: string, value: string) => { rev++; cache.applyRead(key, { key, value, modRevision: String(rev), createRevision: String(rev), lease: '0' }, String(rev)); };
  const seed = (key: string, value: unknown) => raw(key, JSON.stringify(value));
  const drop = (key: string) => { rev++; cache.applyRead(key, undefined, String(rev)); };
  const ctx: Ctx = { client, model, log, guard, leaderKey, maxTxnOps: 128, addressCooldownMs: 0 };
  seed(keys.object('ClusterNetwork', 'c'), { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: { name: 'c', uid: 'c-uid', generation: 1 }, spec: { cidr: '10.76.0.0/23', hostPrefix: 24 } });
  const node = keys.object('Node', 'n1');
  seed(node, { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n1', uid: 'n1-uid', generation: 1 }, spec: {} });
  const claim = model.ipam.claim('clusternetworks', 'c', 'blocks', parseIPv4('10.76.0.0'));
  // as the delete that kept it left it: naming its node
  seed(claim, { owner: { kind: 'HostSubnet', name: 'c-n1', uid: 'old' }, role: 'hostsubnet', cidr: '10.76.0.0/24', node: 'n1' });
  const report = keys.status('HostSubnet', 'c-n1', { node: 'n1' });
  /** Node `name` made, and its HostSubnet on c planned (created): the keys that plan puts. */
  const createFor = (name: string): string[] => {
    seed(keys.object('Node', name), { apiVersion: API_VERSION, kind: 'Node', metadata: { name, uid: `${name}-uid`, generation: 1 }, spec: {} });
    const plan = new TxnPlan(guard, leaderKey);
    expect(planHostSubnet(ctx, { type: 'create', clusterNetwork: 'c', node: name }, plan, new Map())).toMatchObject({ result: 'created' });
    return puts(plan);
  };
  return { model, ctx, cache, raw, seed, drop, node, claim, report, createFor };
}

describe('a gone HostSubnet\'s block and its node\'s report', () => {
  it('is kept by the garbage pass while the report is about it, and freed once the report goes', async () => {
    const { model, ctx, seed, drop, claim, report } = fixture();
    seed(report, { ...MARK, objectUid: 'old', conditions: [] });
    expect(await collectGarbage(ctx)).toBe(0);
    expect(model.cache.get(claim)).toBeDefined();
    // nor is the report swept as the status of a gone object: its agent removes it
    expect(model.cache.get(report)).toBeDefined();
    drop(report);
    expect(await collectGarbage(ctx, 'old')).toBe(1);
    expect(model.cache.get(claim)).toBeUndefined();
  });

  it('is kept by a report that does not decode, or on a Node that does not decode; not by one about another incarnation, nor on a deleted Node', async () => {
    const unreadable = fixture();
    unreadable.raw(unreadable.report, 'not json');
    expect(unreadable.cache.isRefused(unreadable.report)).toBe(true);
    expect(await collectGarbage(unreadable.ctx)).toBe(0);
    const nodeUnreadable = fixture();
    nodeUnreadable.seed(nodeUnreadable.report, { ...MARK, objectUid: 'old' });
    nodeUnreadable.seed(nodeUnreadable.node, { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n1' }, spec: { futureField: 1 } });
    expect(nodeUnreadable.cache.isRefused(nodeUnreadable.node)).toBe(true);
    expect(await collectGarbage(nodeUnreadable.ctx)).toBe(0);
    const other = fixture();
    other.seed(other.report, { ...MARK, objectUid: 'newer' });
    expect(await collectGarbage(other.ctx)).toBe(1);
    // only the node the claim names keeps it: another node's report (true or forged) does not
    const forged = fixture();
    forged.seed(forged.model.keys.object('Node', 'n2'), { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n2', uid: 'n2-uid', generation: 1 }, spec: {} });
    forged.seed(forged.model.keys.status('HostSubnet', 'c-n1', { node: 'n2' }), { ...MARK, objectUid: 'old' });
    expect(await collectGarbage(forged.ctx)).toBe(1);
    const nodeGone = fixture();
    nodeGone.seed(nodeGone.report, { ...MARK, objectUid: 'old' });
    nodeGone.drop(nodeGone.node);
    expect(await collectGarbage(nodeGone.ctx)).toBe(1);
  });

  it('the delete keeps the claims and the report (compared) while the report is there, and frees both without it', () => {
    const { model, ctx, seed, drop, claim, report } = fixture();
    const hs = model.keys.object('HostSubnet', 'c-n1');
    seed(hs, { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'c-n1', uid: 'old', generation: 1 }, spec: { node: 'n1', clusterNetwork: 'c' } });
    // a claim made before claims named their node
    seed(claim, { owner: { kind: 'HostSubnet', name: 'c-n1', uid: 'old' }, role: 'hostsubnet', cidr: '10.76.0.0/24' });
    seed(report, { ...MARK, objectUid: 'old' });
    const kept = new TxnPlan(guard, leaderKey);
    expect(planHostSubnet(ctx, { type: 'delete', name: 'c-n1', nodeKv: model.cache.get(model.keys.object('Node', 'n1')) }, kept, new Map())).toMatchObject({ result: 'deleted' });
    expect(deletes(kept)).toEqual([hs, model.keys.status('HostSubnet', 'c-n1', { controller: true })]);
    // the kept claim now names the node whose report keeps it
    const written = (kept as unknown as { puts: Array<{ key: string; value: string }> }).puts.find((p) => p.key === claim);
    expect(JSON.parse(written!.value)).toMatchObject({ owner: { uid: 'old' }, node: 'n1' });
    // the report as cached: gone meanwhile, the transaction fails and is planned again (freed)
    expect((kept as unknown as { compared: Map<string, { target: string; mod_revision?: string }> }).compared.get(`${report}||Mod|${model.cache.get(report)!.modRevision}`)).toMatchObject({ target: 'Mod', mod_revision: model.cache.get(report)!.modRevision });
    drop(report);
    const freed = new TxnPlan(guard, leaderKey);
    planHostSubnet(ctx, { type: 'delete', name: 'c-n1', nodeKv: model.cache.get(model.keys.object('Node', 'n1')) }, freed, new Map());
    expect(deletes(freed)).toEqual(expect.arrayContaining([hs, report, claim]));
  });

  it('goes back to the same node when it is selected again; another node gets the other block', () => {
    const { model, ctx, seed, claim, report, createFor } = fixture();
    seed(report, { ...MARK, objectUid: 'old' });
    const theirs = createFor('n2');
    expect(theirs).not.toContain(claim);
    expect(theirs).toContain(model.ipam.claim('clusternetworks', 'c', 'blocks', parseIPv4('10.76.1.0')));
    const mine = new TxnPlan(guard, leaderKey);
    expect(planHostSubnet(ctx, { type: 'create', clusterNetwork: 'c', node: 'n1' }, mine, new Map())).toMatchObject({ result: 'created' });
    expect(puts(mine)).toContain(claim);
  });
});

describe('a kept block taken back by the same node, and that node deselected again before its agent reported on the new HostSubnet', () => {
  it('stays kept (the agent, down or behind, still reports on the network of the name), in the delete and in the garbage pass', async () => {
    const { model, ctx, seed, drop, claim, report } = fixture();
    seed(report, { ...MARK, objectUid: 'old', conditions: [] });
    const create = new TxnPlan(guard, leaderKey);
    expect(planHostSubnet(ctx, { type: 'create', clusterNetwork: 'c', node: 'n1' }, create, new Map())).toMatchObject({ result: 'created' });
    const made = (create as unknown as { puts: Array<{ key: string; value: string }> }).puts;
    const hsKey = model.keys.object('HostSubnet', 'c-n1');
    // the create committed: the new HostSubnet holds the kept block; the agent has not reported on it
    for (const p of made) seed(p.key, JSON.parse(p.value));
    const uid = model.hostSubnet('c-n1')!.obj.metadata.uid!;
    expect(model.claimsOf(uid).map((c) => c.key)).toEqual([claim]);
    // a garbage pass meanwhile (every 30 s) leaves the report: its agent, back, writes it anew for the new HostSubnet
    expect(await collectGarbage(ctx)).toBe(0);
    expect(model.cache.get(report)).toBeDefined();
    const del = new TxnPlan(guard, leaderKey);
    expect(planHostSubnet(ctx, { type: 'delete', name: 'c-n1', nodeKv: model.cache.get(model.keys.object('Node', 'n1')) }, del, new Map())).toMatchObject({ result: 'deleted' });
    expect(deletes(del)).not.toContain(claim);
    expect(deletes(del)).not.toContain(report);
    // the delete committed
    for (const p of (del as unknown as { puts: Array<{ key: string; value: string }> }).puts) seed(p.key, JSON.parse(p.value));
    for (const k of deletes(del)) drop(k);
    expect(model.cache.get(hsKey)).toBeUndefined();
    expect(await collectGarbage(ctx)).toBe(0);
    expect(model.cache.get(claim)).toBeDefined();
    // the agent comes back, finds the network gone and deletes its report: the block goes
    drop(report);
    expect(await collectGarbage(ctx, 'old')).toBe(1);
    expect(model.cache.get(claim)).toBeUndefined();
  });
});

describe('a block kept across the delete of its ClusterNetwork', () => {
  it('is not handed out in part when the ClusterNetwork is made again with smaller blocks', () => {
    const { model, seed, report, createFor } = fixture();
    seed(report, { ...MARK, objectUid: 'old', conditions: [] });
    // the ClusterNetwork deleted (its HostSubnets with it, the block kept) and applied again, /25 blocks now
    seed(model.keys.object('ClusterNetwork', 'c'), { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: { name: 'c', uid: 'c-uid2', generation: 1 }, spec: { cidr: '10.76.0.0/23', hostPrefix: 25 } });
    const theirs = createFor('n2');
    // 10.76.0.0/24 is still n1's: n2 gets the first /25 after it
    expect(theirs).toContain(model.ipam.claim('clusternetworks', 'c', 'blocks', parseIPv4('10.76.1.0')));
    expect(theirs).not.toContain(model.ipam.claim('clusternetworks', 'c', 'blocks', parseIPv4('10.76.0.128')));
  });

  it('is not handed out whole when the ClusterNetwork is made again with larger blocks', () => {
    const { model, seed, claim, drop, report, createFor } = fixture();
    // kept from the network as it was, with /26 blocks: 10.76.0.64/26
    drop(claim);
    const small = model.ipam.claim('clusternetworks', 'c', 'blocks', parseIPv4('10.76.0.64'));
    seed(small, { owner: { kind: 'HostSubnet', name: 'c-n1', uid: 'old' }, role: 'hostsubnet', cidr: '10.76.0.64/26', node: 'n1' });
    seed(report, { ...MARK, objectUid: 'old', conditions: [] });
    const theirs = createFor('n2');
    expect(theirs).toContain(model.ipam.claim('clusternetworks', 'c', 'blocks', parseIPv4('10.76.1.0')));
    expect(theirs).not.toContain(model.ipam.claim('clusternetworks', 'c', 'blocks', parseIPv4('10.76.0.0')));
  });
});

describe('a report naming another object\'s uid', () => {
  it('does not hand the deleted HostSubnet\'s block to that object: a live HostSubnet of another node keeps only its own block', () => {
    const { model, ctx, seed, drop, claim, report } = fixture();
    seed(model.keys.object('Node', 'n2'), { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'n2', uid: 'n2-uid', generation: 1 }, spec: {} });
    const theirs = model.ipam.claim('clusternetworks', 'c', 'blocks', parseIPv4('10.76.1.0'));
    seed(model.keys.object('HostSubnet', 'c-n2'), { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'c-n2', uid: 'y-uid', generation: 1 }, spec: { node: 'n2', clusterNetwork: 'c' } });
    seed(theirs, { owner: { kind: 'HostSubnet', name: 'c-n2', uid: 'y-uid' }, role: 'hostsubnet', cidr: '10.76.1.0/24' });
    // n1's HostSubnet, live, and n1's report on it naming c-n2's uid (a lying node)
    seed(model.keys.object('HostSubnet', 'c-n1'), { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'c-n1', uid: 'cur', generation: 1 }, spec: { node: 'n1', clusterNetwork: 'c' } });
    seed(claim, { owner: { kind: 'HostSubnet', name: 'c-n1', uid: 'cur' }, role: 'hostsubnet', cidr: '10.76.0.0/24' });
    seed(report, { ...MARK, objectUid: 'y-uid', conditions: [] });
    const del = new TxnPlan(guard, leaderKey);
    planHostSubnet(ctx, { type: 'delete', name: 'c-n1', nodeKv: model.cache.get(model.keys.object('Node', 'n1')) }, del, new Map());
    for (const p of (del as unknown as { puts: Array<{ key: string; value: string }> }).puts) seed(p.key, JSON.parse(p.value));
    for (const k of deletes(del)) drop(k);
    // whatever became of n1's block, it is not c-n2's
    expect(model.claimsOf('y-uid').map((c) => c.key)).toEqual([theirs]);
  });
});

describe('a delete that finds no report', () => {
  it('frees the block only if no report was written meanwhile (the agent reporting on a network it just made): the report\'s absence is compared', () => {
    const { model, ctx, seed, report } = fixture();
    seed(model.keys.object('HostSubnet', 'c-n1'), { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'c-n1', uid: 'old', generation: 1 }, spec: { node: 'n1', clusterNetwork: 'c' } });
    const del = new TxnPlan(guard, leaderKey);
    planHostSubnet(ctx, { type: 'delete', name: 'c-n1', nodeKv: model.cache.get(model.keys.object('Node', 'n1')) }, del, new Map());
    expect(deletes(del)).toContain(report);
    // a report in etcd that the cache has not seen yet fails the transaction: planned again, it keeps the block
    expect((del as unknown as { compared: Map<string, { target: string; create_revision?: number }> }).compared.get(`${report}||Create|0`)).toMatchObject({ target: 'Create', create_revision: 0 });
  });
});

describe('a report written by an agent that never removes it (one before the mark: a rolling upgrade)', () => {
  it('keeps nothing: the delete frees the block and removes the report, as before', () => {
    const { model, ctx, seed, claim, report } = fixture();
    const hs = model.keys.object('HostSubnet', 'c-n1');
    seed(hs, { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'c-n1', uid: 'old', generation: 1 }, spec: { node: 'n1', clusterNetwork: 'c' } });
    seed(report, { objectUid: 'old', observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Converged', lastTransitionTime: '2026-01-01T00:00:00Z' }] });
    const del = new TxnPlan(guard, leaderKey);
    expect(planHostSubnet(ctx, { type: 'delete', name: 'c-n1', nodeKv: model.cache.get(model.keys.object('Node', 'n1')) }, del, new Map())).toEqual({ result: 'deleted', name: 'c-n1' });
    expect(deletes(del)).toEqual(expect.arrayContaining([hs, report, claim]));
    // pinned as cached: the agent, upgraded meanwhile, marking it fails the transaction (planned again, kept)
    expect((del as unknown as { compared: Map<string, { target: string; mod_revision?: string }> }).compared.get(`${report}||Mod|${model.cache.get(report)!.modRevision}`)).toMatchObject({ target: 'Mod', mod_revision: model.cache.get(report)!.modRevision });
  });

  it('keeps nothing in the garbage pass either (a claim a controller before the mark kept for it): the claim and the report go', async () => {
    const { model, ctx, seed, claim, report } = fixture();
    seed(report, { objectUid: 'old', conditions: [] });
    expect(await collectGarbage(ctx)).toBe(1);
    expect(model.cache.get(claim)).toBeUndefined();
    expect(model.cache.get(report)).toBeUndefined();
  });

  it('is not taken back by the same node selected again', () => {
    const { ctx, seed, claim, report } = fixture();
    seed(report, { objectUid: 'old' });
    const mine = new TxnPlan(guard, leaderKey);
    expect(planHostSubnet(ctx, { type: 'create', clusterNetwork: 'c', node: 'n1' }, mine, new Map())).toMatchObject({ result: 'created' });
    expect(puts(mine)).not.toContain(claim);
  });
});

describe('a live HostSubnet\'s block left by an edit of its subnet (editKeeps)', () => {
  /** HostSubnet c-n1 (uid cur) on 10.76.0.0/24, its spec.subnet edited to 10.76.1.0/24, n1's report `report` (undefined: none): the move planned. */
  function move(report: Record<string, unknown> | undefined, nodeGone = false) {
    const f = fixture();
    const hs = f.model.keys.object('HostSubnet', 'c-n1');
    f.seed(hs, { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'c-n1', uid: 'cur', generation: 2 }, spec: { node: 'n1', clusterNetwork: 'c', subnet: '10.76.1.0/24' } });
    f.seed(f.claim, { owner: { kind: 'HostSubnet', name: 'c-n1', uid: 'cur' }, role: 'hostsubnet', cidr: '10.76.0.0/24' });
    if (report) f.seed(f.report, report);
    if (nodeGone) f.drop(f.node);
    const plan = new TxnPlan(guard, leaderKey);
    expect(planHostSubnet(f.ctx, { type: 'ensure', name: 'c-n1' }, plan, new Map())).toMatchObject({ result: 'allocated' });
    const put = (plan as unknown as { puts: Array<{ key: string; value: string }> }).puts.find((p) => p.key === f.claim);
    return { deleted: deletes(plan).includes(f.claim), put: put && JSON.parse(put.value) as Record<string, unknown> };
  }

  it('keeps it, naming the node, while the report keeps this incarnation and does not say the network moved', () => {
    for (const report of [{ ...MARK, objectUid: 'cur' }, { ...MARK, objectUid: 'cur', networkSubnet: '10.76.0.0/24' }, { ...MARK }, { ...MARK, objectUid: 'cur', networkSubnet: 'no cidr' }]) {
      const r = move(report);
      expect(r.deleted, JSON.stringify(report)).toBe(false);
      expect(r.put, JSON.stringify(report)).toMatchObject({ owner: { uid: 'cur' }, cidr: '10.76.0.0/24', node: 'n1' });
    }
  });

  it('frees it once the network is on a subnet clear of it, or without a marked report about it, or with its Node gone', () => {
    for (const [report, nodeGone] of [[{ ...MARK, objectUid: 'cur', networkSubnet: '10.76.1.0/24' }], [undefined], [{ objectUid: 'cur' }], [{ ...MARK, objectUid: 'other' }], [{ ...MARK, objectUid: 'cur' }, true]] as const) {
      expect(move(report, nodeGone).deleted, JSON.stringify([report, nodeGone])).toBe(true);
    }
  });
});
