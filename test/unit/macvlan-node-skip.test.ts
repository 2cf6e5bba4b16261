// A MacvlanNet node whose part has an item no transaction holds is skipped, and said so; the
// nodes after it still get theirs (a transaction of 4 compares/ops stands in for an item larger
// than etcd's 128: no real item is).
import { describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { KvCache } from '../../pkg/runtime/kv-cache.js';
import { Model } from '../../pkg/controller/model.js';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import type { Ctx } from '../../pkg/controller/context.js';
import { createLogger } from '../../pkg/log.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';

const P = '/x';
const leaderKey = `${P}/election/controller`;
const guard = { key: Buffer.from(leaderKey), target: 'Create' as const, result: 'Equal' as const, create_revision: '7' };

/** etcd that takes every transaction (the plan's size is the test's concern, not conflicts) */
const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: '100' }, responses: [] }) } } as unknown as Etcd3;

function fixture() {
  const cache = new KvCache(client, P);
  const model = new Model(cache, P);
  let rev = 10;
  const seed = (key: string, value: unknown) => { rev++; cache.applyLocalPut(key, JSON.stringify(value), String(rev), String(rev)); };
  const log = createLogger('test'); log.level = 'error';
  const ctx: Ctx = { client, model, log, guard, leaderKey, maxTxnOps: 4, addressCooldownMs: 0 };
  return { model, seed, ctx };
}

describe('MacvlanNet node parts', () => {
  it('skips a node whose next item fits no transaction, and goes on with the nodes after it', async () => {
    const { model, seed, ctx } = fixture();
    const owner = { kind: 'MacvlanNet', name: 'lan', uid: 'lan-uid' };
    seed(model.keys.object('MacvlanNet', 'lan'), { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan', uid: owner.uid, generation: 1 }, spec: { subnet: '10.20.0.0/24', parent: 'eth0', mode: 'bridge', hostShim: false, blockPrefix: 28, dockerIPAM: 'xnet' } });
    for (const n of ['n1', 'n2']) seed(model.keys.object('Node', n), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: n, uid: n, generation: 1 }, spec: {} });
    // n1 has no pool yet: its first claim costs 2 compares, more than the 4 leave (guard,
    // MacvlanNet, status). n2 holds 8 and returned 3: a release costs no compare.
    const held = Array.from({ length: 8 }, (_, i) => `10.20.0.${10 + i}`);
    for (const ip of held) seed(model.ipam.claim('macvlannets', 'lan', 'addresses', parseIPv4(ip)), { owner, role: 'node-pool', ip, node: 'n2' });
    seed(model.keys.status('MacvlanNet', 'lan', { node: 'n2' }), { ready: true, ipam: { assigned: [], returned: held.slice(0, 3), external: [], requested: [], want: 0 } });
    const plan = new TxnPlan(guard, leaderKey, 4);
    const o = planMacvlanNodes(ctx, 'lan', plan, new Map());
    expect(o).toMatchObject({ more: false, progress: true });
    expect(plan.size.ops).toBe(4);
    expect(await plan.commit(client, model.cache)).toBe(true);
    const status = model.controllerStatus('MacvlanNet', 'lan')!.status as { nodes: Array<{ name: string; addresses?: string[]; message: string; ready: boolean }> };
    const [n1, n2] = status.nodes;
    expect(n1).toMatchObject({ name: 'n1', addresses: [], ready: false });
    expect(n1.message).toMatch(/more than one etcd transaction holds; skipped/);
    expect(n2).toMatchObject({ name: 'n2', addresses: held.slice(3), ready: true });
    expect(model.claimsIn('macvlannets', 'lan', 'addresses').size).toBe(5);
  });
});
