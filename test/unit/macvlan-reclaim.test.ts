// dockerIPAM xnet: a node's report lists addresses its containers use that no claim of that
// node backs (its Node was deleted and made again while they ran). The round claims each for
// it again before any refill, turns an `external` mark on one into its pre-claim, and takes
// nothing another node or a NIC holds (the report is untrusted), at most MAX_RECLAIM a report.
import { describe, expect, it } from 'vitest';
import { guard, leaderKey, plannerCtx } from './planner-ctx.js';
import type { Etcd3 } from 'etcd3';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { MAX_RECLAIM } from '../../pkg/controller/macvlan-reclaim.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';

/** etcd that takes every transaction */
const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: '100' }, responses: [] }) } } as unknown as Etcd3;
const owner = { kind: 'MacvlanNet', name: 'lan', uid: 'lan-uid' };

function fixture(ipRange = '10.20.0.0/24', hostShim = false) {
  const { model, seed, ctx } = plannerCtx(client);
  seed(model.keys.object('MacvlanNet', 'lan'), { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan', uid: owner.uid, generation: 1, finalizers: ['xnet.io/network-in-use'] }, spec: { subnet: '10.20.0.0/16', gateway: '10.20.255.254', ipRange, parent: 'eth0', mode: 'bridge', hostShim, blockPrefix: 28, dockerIPAM: 'xnet' } });
  const node = (n: string) => seed(model.keys.object('Node', n), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: n, uid: n, generation: 1 }, spec: {} });
  const inUse = (n: string, ips: string[]) => seed(model.keys.status('MacvlanNet', 'lan', { node: n }), { ready: true, ipam: { assigned: ips.map((ip) => ({ ip })), returned: [], external: [], requested: [], want: 0 } });
  const claim = (ip: string, c: Record<string, unknown>) => seed(model.ipam.claim('macvlannets', 'lan', 'addresses', parseIPv4(ip)), { owner, ip, ...c });
  const nicClaim = (ip: string) => seed(model.ipam.claim('macvlannets', 'lan', 'addresses', parseIPv4(ip)), { owner: { kind: 'ContainerNic', name: 'db-eth1', uid: 'nic-uid' }, role: 'nic', ip });
  const plan = async () => {
    const p = new TxnPlan(guard, leaderKey);
    planMacvlanNodes(ctx, 'lan', p, new Map());
    expect(await p.commit(client, model.cache)).toBe(true);
    const claims = new Map([...model.claimsIn('macvlannets', 'lan', 'addresses').values()].map((c) => [c.claim.ip!, c.claim]));
    const status = model.controllerStatus('MacvlanNet', 'lan')!.status as { external?: string[]; nodes: Array<{ name: string; addresses?: string[] }> };
    return { claims, status };
  };
  return { node, inUse, claim, nicClaim, plan };
}

describe('MacvlanNet: addresses in use that lost their claim', () => {
  it('are claimed for their node before any refill, and an external mark on one becomes its pre-claim', async () => {
    const f = fixture();
    f.node('a'); f.node('b');
    // a's container on the lowest address, which b's refill would take first; b's on another node's mark
    f.inUse('a', ['10.20.0.1']);
    f.inUse('b', ['10.20.0.5']);
    f.claim('10.20.0.5', { role: 'external', node: 'a' });
    const { claims, status } = await f.plan();
    expect(claims.get('10.20.0.1')).toMatchObject({ role: 'node-pool', node: 'a' });
    expect(claims.get('10.20.0.5')).toMatchObject({ role: 'node-pool', node: 'b' });
    expect(status.external).toBeUndefined();
    expect(status.nodes.find((n) => n.name === 'a')?.addresses).toContain('10.20.0.1');
    expect(status.nodes.find((n) => n.name === 'b')?.addresses).toContain('10.20.0.5');
  });

  it('takes nothing another node, a shim or a NIC holds, nor an address outside the subnet', async () => {
    const f = fixture('10.20.0.0/25', true);
    f.node('a'); f.node('b');
    f.claim('10.20.0.11', { role: 'node-pool', node: 'b' });
    f.claim('10.20.0.12', { role: 'shim', node: 'b' });
    f.nicClaim('10.20.0.13');
    f.inUse('a', ['10.20.0.11', '10.20.0.12', '10.20.0.13', '10.21.0.7']);
    const { claims } = await f.plan();
    expect(claims.get('10.20.0.11')).toMatchObject({ role: 'node-pool', node: 'b' });
    expect(claims.get('10.20.0.12')).toMatchObject({ role: 'shim', node: 'b' });
    expect(claims.get('10.20.0.13')).toMatchObject({ role: 'nic' });
    expect(claims.has('10.21.0.7')).toBe(false);
  });

  // Review of 3183d79: the round claimed anew any address inside the subnet a report listed, so
  // a node listing addresses it does not use took the gateway, the broadcast address and what the
  // range leaves out (a router's excluded address) as `outsideRange`, which its shim then routes
  // and which it keeps once the range grows back: more than it could take before. Only a claim
  // the node already holds is kept outside the range (keptInUse); none is made there.
  it('claims nothing outside the range: not the gateway, the broadcast address, nor one the range leaves out', async () => {
    const f = fixture('10.20.0.0/25');
    f.node('a');
    f.inUse('a', ['10.20.0.5', '10.20.0.200', '10.20.255.254', '10.20.255.255']);
    const { claims, status } = await f.plan();
    expect(claims.get('10.20.0.5')).toMatchObject({ role: 'node-pool', node: 'a' });
    expect(['10.20.0.200', '10.20.255.254', '10.20.255.255'].filter((ip) => claims.has(ip))).toEqual([]);
    const part = status.nodes.find((n) => n.name === 'a') as { addresses?: string[]; outsideRange?: string[] };
    expect(part.outsideRange).toBeUndefined();
  });

  // what the node already holds stays while it uses it, announced apart from the addresses at hand
  it('keeps a pre-claim the range left out while the node uses it, and frees it once it does not', async () => {
    const f = fixture('10.20.0.0/25');
    f.node('a');
    f.claim('10.20.0.200', { role: 'node-pool', node: 'a' });
    f.claim('10.20.0.201', { role: 'node-pool', node: 'a' });
    f.inUse('a', ['10.20.0.200']);
    const { claims, status } = await f.plan();
    expect(claims.get('10.20.0.200')).toMatchObject({ role: 'node-pool', node: 'a' });
    expect(claims.has('10.20.0.201')).toBe(false);
    const part = status.nodes.find((n) => n.name === 'a') as { addresses?: string[]; outsideRange?: string[] };
    expect(part.outsideRange).toEqual(['10.20.0.200']);
    expect(part.addresses).not.toContain('10.20.0.200');
  });

  // Review: the budget was spent on the report's lowest addresses, inside the range or not, so
  // a node with MAX_RECLAIM containers kept below a range shrunk from the bottom had none of
  // its in-range addresses claimed again once its Node was made again: another node's refill
  // (the lowest free first) could hand them out a second time.
  it(`spends its ${MAX_RECLAIM} on addresses inside the range, not on ones the range leaves out`, async () => {
    const f = fixture('10.20.2.0/24');
    f.node('a'); f.node('b');
    const below = Array.from({ length: MAX_RECLAIM }, (_, i) => formatIPv4(parseIPv4('10.20.0.1') + i));
    // b's container on the range's second address, which a's refill (a comes first) would take
    f.inUse('b', [...below, '10.20.2.1']);
    const { claims } = await f.plan();
    expect(claims.get('10.20.2.1')).toMatchObject({ role: 'node-pool', node: 'b' });
  });

  it(`claims at most ${MAX_RECLAIM} of one report (its lowest), however many it lists`, async () => {
    const f = fixture('10.20.0.0/22');
    f.node('a');
    const listed = Array.from({ length: MAX_RECLAIM + 100 }, (_, i) => formatIPv4(parseIPv4('10.20.0.1') + 3 * i));
    f.inUse('a', listed);
    let claims = (await f.plan()).claims;
    // rounds run until nothing changes: the same report gets no more
    for (let i = 0; i < 10; i++) claims = (await f.plan()).claims;
    const mine = listed.filter((ip) => claims.get(ip)?.node === 'a');
    expect(mine).toEqual(listed.slice(0, MAX_RECLAIM));
  });
});
