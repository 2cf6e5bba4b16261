// Unreadable is not absent, in the controller's plans: a key that is in etcd but does not
// decode (a newer xctl's field, an etcdctl edit) frees nothing that depends on it. The plans
// run on the controller's real cache and admission, seeded in memory (etcd takes every
// transaction: what is planned is the concern here, as in macvlan-node-skip.test.ts).
import { describe, expect, it } from 'vitest';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { allocateNic } from '../../pkg/controller/nics.js';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { collectGarbage } from '../../pkg/controller/gc.js';
import { hostSubnetNameFor } from '../../pkg/controller/hostsubnets.js';
import { API_VERSION } from '../../pkg/api/index.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { guard, leaderKey, meta, modelFixture } from './model-fixture.js';

const fixture = modelFixture;
const deletes = (plan: TxnPlan) => (plan as unknown as { dels: string[] }).dels;
const puts = (plan: TxnPlan) => (plan as unknown as { puts: Array<{ key: string }> }).puts.map((p) => p.key);

/** A ClusterNetwork, node n1 with HostSubnet c-n1 (10.76.0.0/24), and NIC k holding 10.76.0.2 in it. */
function allocatedNic() {
  const f = fixture();
  const { model, seed } = f;
  const cn = { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta('c'), spec: { cidr: '10.76.0.0/16', hostPrefix: 24 } };
  seed(model.keys.object('ClusterNetwork', 'c'), cn);
  seed(model.keys.object('Node', 'n1'), { apiVersion: API_VERSION, kind: 'Node', metadata: meta('n1'), spec: {} });
  const hostSubnet = (name: string, subnet: string, bridge: string) => {
    seed(model.keys.object('HostSubnet', name), { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta(name), spec: { node: 'n1', clusterNetwork: 'c' } });
    seed(model.keys.status('HostSubnet', name, { controller: true }), { subnet, gateway: subnet.replace(/0\/24$/, '1'), dockerRange: subnet.replace(/0\/24$/, '128/25'), bridge });
  };
  hostSubnet('c-n1', '10.76.0.0/24', 'br00');
  seed(model.keys.object('ContainerNic', 'k'), { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta('k', { finalizers: ['xnet.io/address-in-use'] }), spec: { node: 'n1', container: 'ct', ifName: 'eth1', network: { clusterNetwork: 'c' } } });
  const claim = model.ipam.claim('clusternetworks', 'c', 'addresses', parseIPv4('10.76.0.2'));
  seed(claim, { owner: { kind: 'ContainerNic', name: 'k', uid: 'k-uid' }, role: 'nic', ip: '10.76.0.2', node: 'n1' });
  return { ...f, cn, claim, hostSubnet };
}

describe('a NIC whose network or HostSubnet does not decode', () => {
  it('keeps its address when its ClusterNetwork\'s key does not decode, and frees it when the key is deleted', () => {
    const { model, seed, ctx, cache, cn, claim } = allocatedNic();
    seed(model.keys.object('ClusterNetwork', 'c'), { ...cn, spec: { ...cn.spec, futureField: 1 } });
    expect(cache.isRefused(model.keys.object('ClusterNetwork', 'c'))).toBe(true);
    const plan = new TxnPlan(guard, leaderKey);
    expect(allocateNic(ctx, 'k', plan, new Map())).toMatchObject({ result: 'waiting', reason: 'Unreadable' });
    expect(deletes(plan)).toEqual([]);
    expect(puts(plan)).toEqual([]);
    // deleted for real: the NIC has no network, and its claim goes
    cache.applyRead(model.keys.object('ClusterNetwork', 'c'), undefined, '900');
    const after = new TxnPlan(guard, leaderKey);
    expect(allocateNic(ctx, 'k', after, new Map())).toMatchObject({ result: 'failed', reason: 'InvalidSpec' });
    expect(deletes(after)).toEqual([claim]);
  });

  it('stays on its HostSubnet when the status of that HostSubnet does not decode, though the node has another', () => {
    const { model, seed, ctx, hostSubnet } = allocatedNic();
    hostSubnet('b-other', '10.76.5.0/24', 'br05');
    seed(model.keys.status('HostSubnet', 'c-n1', { controller: true }), { subnet: 42 });
    const plan = new TxnPlan(guard, leaderKey);
    expect(allocateNic(ctx, 'k', plan, new Map())).toMatchObject({ result: 'waiting', reason: 'Unreadable' });
    expect(deletes(plan)).toEqual([]);
  });

  it('keeps the HostSubnet that holds its address when one that sorts first is added to its node', () => {
    const { ctx, hostSubnet, claim } = allocatedNic();
    hostSubnet('a-first', '10.76.9.0/24', 'br09');
    const plan = new TxnPlan(guard, leaderKey);
    expect(allocateNic(ctx, 'k', plan, new Map())).toMatchObject({ ip: '10.76.0.2' });
    expect(deletes(plan)).not.toContain(claim);
  });
});

describe('a Node whose key does not decode', () => {
  it('keeps what it holds of a MacvlanNet, announced in the status', () => {
    const { model, seed, ctx, cache } = fixture();
    const node = { apiVersion: API_VERSION, kind: 'Node', metadata: meta('n1'), spec: {} };
    seed(model.keys.object('Node', 'n1'), node);
    const owner = { kind: 'MacvlanNet', name: 'lan', uid: 'lan-uid' };
    seed(model.keys.object('MacvlanNet', 'lan'), { apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'lan', uid: 'lan-uid', generation: 1 }, spec: { subnet: '10.20.0.0/24', parent: 'eth0', mode: 'bridge', hostShim: true, blockPrefix: 28, dockerIPAM: 'xnet' } });
    const held = ['10.20.0.10', '10.20.0.11'];
    for (const ip of held) seed(model.ipam.claim('macvlannets', 'lan', 'addresses', parseIPv4(ip)), { owner, role: 'node-pool', ip, node: 'n1' });
    seed(model.ipam.claim('macvlannets', 'lan', 'addresses', parseIPv4('10.20.0.2')), { owner, role: 'shim', ip: '10.20.0.2', node: 'n1' });
    seed(model.keys.object('Node', 'n1'), { ...node, spec: { futureField: 1 } });
    expect(cache.isRefused(model.keys.object('Node', 'n1'))).toBe(true);
    const plan = new TxnPlan(guard, leaderKey);
    planMacvlanNodes(ctx, 'lan', plan, new Map());
    expect(deletes(plan)).toEqual([]);
    const puts = (plan as unknown as { puts: Array<{ key: string; parsed: { nodes?: Array<Record<string, unknown>> } }> }).puts;
    const put = (key: string) => puts.find((p) => p.key === key)?.parsed;
    // the status key lists the node (what other nodes act on), its part in its index says the rest
    expect(put(model.keys.status('MacvlanNet', 'lan', { controller: true }))?.nodes).toEqual([{ name: 'n1', shimAddress: '10.20.0.2' }]);
    expect(put(model.keys.macvlanPart('n1', 'lan'))).toEqual(expect.objectContaining({ name: 'n1', shimAddress: '10.20.0.2', addresses: held, ready: false, message: expect.stringMatching(/does not decode/) }));
  });
});

describe('garbage collection', () => {
  it('takes an owner whose key does not decode for there, and still frees real garbage', async () => {
    const { model, seed, ctx, cn, claim } = allocatedNic();
    const gone = model.ipam.claim('clusternetworks', 'c', 'addresses', parseIPv4('10.76.0.3'));
    seed(gone, { owner: { kind: 'ContainerNic', name: 'gone', uid: 'gone-uid' }, role: 'nic', ip: '10.76.0.3', node: 'n1' });
    seed(model.keys.object('ContainerNic', 'k'), { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta('k'), spec: { node: 'n1', container: 'ct', ifName: 'eth1', network: { clusterNetwork: 'c' }, futureField: 1 } });
    void cn;
    expect(await collectGarbage(ctx)).toBe(1);
    expect(model.cache.get(claim)).toBeDefined();
    expect(model.cache.get(gone)).toBeUndefined();
  });
});

describe('the garbage pass over the node indexes', () => {
  it('keeps the copies of an object that does not decode, and of one bound there; deletes those of no object or another node', async () => {
    const { model, seed, ctx } = allocatedNic();
    const nic = (name: string, extra: object = {}) => ({ apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta(name), spec: { node: 'n1', container: 'ct', ifName: 'eth1', network: { clusterNetwork: 'c' }, ...extra } });
    const copy = (node: string, name: string) => model.keys.indexed(node, model.keys.object('ContainerNic', name));
    seed(copy('n1', 'k'), nic('k'));
    seed(model.keys.object('ContainerNic', 'bad'), nic('bad', { futureField: 1 }));
    seed(copy('n1', 'bad'), nic('bad'));
    seed(copy('n1', 'ghost'), nic('ghost'));
    seed(copy('n2', 'k'), nic('k'));
    expect(model.cache.isRefused(model.keys.object('ContainerNic', 'bad'))).toBe(true);
    await collectGarbage(ctx);
    expect(model.cache.get(copy('n1', 'k'))).toBeDefined();
    expect(model.cache.get(copy('n1', 'bad'))).toBeDefined();
    expect(model.cache.get(copy('n1', 'ghost'))).toBeUndefined();
    expect(model.cache.get(copy('n2', 'k'))).toBeUndefined();
  });
});

describe('a HostSubnet name held by a key that does not decode', () => {
  it('is taken: the pair gets the hashed name instead of a create at that key', () => {
    const { model, seed, ctx } = fixture();
    seed(model.keys.object('Node', 'b'), { apiVersion: API_VERSION, kind: 'Node', metadata: meta('b'), spec: {} });
    expect(hostSubnetNameFor(ctx, 'c', 'b')).toBe('c-b');
    seed(model.keys.object('HostSubnet', 'c-b'), { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta('c-b'), spec: { node: 'b', clusterNetwork: 'c', futureField: 1 } });
    expect(model.cache.isRefused(model.keys.object('HostSubnet', 'c-b'))).toBe(true);
    expect(hostSubnetNameFor(ctx, 'c', 'b')).toMatch(/^c-b-[0-9a-f]{8}$/);
  });
});
