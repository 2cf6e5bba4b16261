// An address a ContainerNic pins with spec.ip is picked for no one else (Model.nicPinning):
// not by another NIC's next-fit scan, not for a MacvlanNet node's shim, pre-claimed addresses,
// `docker run --ip` request or Docker block, also while the pinning NIC has no claim yet (it is
// planned later). The plans run on the controller's real cache and admission, seeded in memory
// (etcd takes every transaction: what is planned is the concern here).
import { describe, expect, it } from 'vitest';
import { Model } from '../../pkg/controller/model.js';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { allocateNic } from '../../pkg/controller/nics.js';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { API_VERSION } from '../../pkg/api/index.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { guard, leaderKey, meta, modelFixture } from './model-fixture.js';

function fixture() {
  const { model, seed, drop, ctx } = modelFixture();
  const nic = (name: string, network: Record<string, string>, ip?: string) =>
    seed(model.keys.object('ContainerNic', name), { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta(name), spec: { node: 'n1', container: name, ifName: 'eth1', network, ...(ip ? { ip } : {}) } });
  seed(model.keys.object('Node', 'n1'), { apiVersion: API_VERSION, kind: 'Node', metadata: meta('n1'), spec: {} });
  return { model, seed, drop, ctx, nic };
}
const puts = (plan: TxnPlan) => (plan as unknown as { puts: Array<{ key: string; parsed: Record<string, unknown> }> }).puts;
const addressKey = (model: Model, pool: string, ip: string) => model.ipam.claim('macvlannets', pool, 'addresses', parseIPv4(ip));

describe('the Model\'s index of pinned addresses', () => {
  it('follows a NIC\'s spec.ip through an edit, a move to another pool and its delete', () => {
    const { model, drop, nic } = fixture();
    nic('p', { macvlanNet: 'lan' }, '10.20.0.9');
    nic('q', { macvlanNet: 'lan' });
    expect(model.nicPinning('macvlannets', 'lan', parseIPv4('10.20.0.9'))).toBe('p');
    expect(model.nicPinnedAddresses('macvlannets', 'lan')).toEqual([parseIPv4('10.20.0.9')]);
    nic('p', { macvlanNet: 'lan' }, '10.20.0.7');
    expect(model.nicPinning('macvlannets', 'lan', parseIPv4('10.20.0.9'))).toBeUndefined();
    expect(model.nicPinnedAddresses('macvlannets', 'lan')).toEqual([parseIPv4('10.20.0.7')]);
    nic('p', { clusterNetwork: 'c' }, '10.20.0.7');
    expect(model.nicPinnedAddresses('macvlannets', 'lan')).toEqual([]);
    expect(model.nicPinning('clusternetworks', 'c', parseIPv4('10.20.0.7'))).toBe('p');
    // an edit that takes spec.ip away: the NIC pins nothing, though it is still stored
    nic('p', { clusterNetwork: 'c' });
    expect(model.nicPinning('clusternetworks', 'c', parseIPv4('10.20.0.7'))).toBeUndefined();
    expect(model.nicPinnedAddresses('clusternetworks', 'c')).toEqual([]);
    nic('p', { clusterNetwork: 'c' }, '10.20.0.7');
    drop(model.keys.object('ContainerNic', 'p'));
    expect(model.nicPinnedAddresses('clusternetworks', 'c')).toEqual([]);
  });
});

describe('an address a ContainerNic pins, before that NIC has a claim', () => {
  it('is skipped by another NIC\'s pick in the same HostSubnet', () => {
    const { model, seed, ctx, nic } = fixture();
    seed(model.keys.object('ClusterNetwork', 'c'), { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta('c'), spec: { cidr: '10.76.0.0/16', hostPrefix: 24 } });
    seed(model.keys.object('HostSubnet', 'c-n1'), { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta('c-n1'), spec: { node: 'n1', clusterNetwork: 'c' } });
    seed(model.keys.status('HostSubnet', 'c-n1', { controller: true }), { subnet: '10.76.0.0/24', gateway: '10.76.0.1', dockerRange: '10.76.0.128/25', bridge: 'br00' });
    nic('pinned', { clusterNetwork: 'c' }, '10.76.0.2');
    nic('picks', { clusterNetwork: 'c' });
    const round = new Map();
    // the picking NIC is planned first: next fit would give it .2
    expect(allocateNic(ctx, 'picks', new TxnPlan(guard, leaderKey), round)).toMatchObject({ result: 'allocated', ip: '10.76.0.3' });
    expect(allocateNic(ctx, 'pinned', new TxnPlan(guard, leaderKey), round)).toMatchObject({ result: 'allocated', ip: '10.76.0.2' });
  });

  it('is skipped by another NIC\'s pick on a MacvlanNet', () => {
    const { model, seed, ctx, nic } = fixture();
    seed(model.keys.object('MacvlanNet', 'lan'), { apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: meta('lan'), spec: { subnet: '10.20.0.0/24', ipRange: '10.20.0.128/25', nodeSelector: { matchLabels: { none: 'x' } } } });
    nic('pinned', { macvlanNet: 'lan' }, '10.20.0.128');
    nic('picks', { macvlanNet: 'lan' });
    expect(allocateNic(ctx, 'picks', new TxnPlan(guard, leaderKey), new Map())).toMatchObject({ result: 'allocated', ip: '10.20.0.129' });
  });

  it('is no MacvlanNet node\'s shim, pre-claimed address or granted --ip request', () => {
    const { model, seed, ctx, nic } = fixture();
    seed(model.keys.object('MacvlanNet', 'lan'), { apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: meta('lan'), spec: { subnet: '10.20.0.0/24', ipRange: '10.20.0.128/25', hostShim: true } });
    nic('a', { macvlanNet: 'lan' }, '10.20.0.128');
    nic('b', { macvlanNet: 'lan' }, '10.20.0.130');
    nic('c', { macvlanNet: 'lan' }, '10.20.0.200');
    // the node's IPAM plugin asks for .200 (docker run --ip) and for .201
    seed(model.keys.status('MacvlanNet', 'lan', { node: 'n1' }), { ready: true, ipam: { assigned: [], returned: [], external: [], requested: ['10.20.0.200', '10.20.0.201'], want: 0 } });
    const plan = new TxnPlan(guard, leaderKey);
    planMacvlanNodes(ctx, 'lan', plan, new Map());
    const claimed = puts(plan).filter((p) => p.key.startsWith(model.ipam.space('macvlannets', 'lan', 'addresses'))).map((p) => p.parsed);
    expect(claimed.filter((c) => c.role === 'shim').map((c) => c.ip)).toEqual(['10.20.0.129']);
    const pool = claimed.filter((c) => c.role === 'node-pool').map((c) => c.ip as string);
    expect(pool).toContain('10.20.0.201');
    for (const pinned of ['10.20.0.128', '10.20.0.130', '10.20.0.200']) expect(pool).not.toContain(pinned);
    expect(puts(plan).map((p) => p.key)).not.toContain(addressKey(model, 'lan', '10.20.0.130'));
  });

  it('lies in no Docker block (dockerIPAM: blocks)', () => {
    const { model, seed, ctx, nic } = fixture();
    // blocks come from the top: .224/28 would be the first (.240/28 holds the broadcast address)
    seed(model.keys.object('MacvlanNet', 'lan'), { apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: meta('lan'), spec: { subnet: '10.20.0.0/24', gateway: '10.20.0.1', dockerIPAM: 'blocks', blockPrefix: 28, hostShim: false } });
    nic('p', { macvlanNet: 'lan' }, '10.20.0.230');
    const plan = new TxnPlan(guard, leaderKey);
    planMacvlanNodes(ctx, 'lan', plan, new Map());
    const blocks = puts(plan).filter((p) => p.key.startsWith(model.ipam.space('macvlannets', 'lan', 'blocks'))).map((p) => p.parsed.cidr);
    expect(blocks).toEqual(['10.20.0.208/28']);
  });
});
