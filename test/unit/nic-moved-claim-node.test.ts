// A MacvlanNet ContainerNic moved to another node (spec.node edited) keeps its address: the
// segment is shared. Its claim names the node (`node`), and that name is what a NIC pinning the
// same address is told holds it ("already used by ContainerNic "a" on node ...") and what
// `xctl ipam check` prints: it must follow the move, not name the node the NIC left.
import { describe, expect, it } from 'vitest';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { allocateNic } from '../../pkg/controller/nics.js';
import { API_VERSION } from '../../pkg/api/index.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import type { Etcd3 } from 'etcd3';
import { guard, leaderKey, meta, modelFixture } from './model-fixture.js';

/** etcd answering every transaction as committed, each at a revision of its own */
let rev = 1000;
const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: String(++rev) }, responses: [] }) } } as unknown as Etcd3;

describe('a MacvlanNet ContainerNic moved to another node', () => {
  it('keeps its address, and its claim and a conflicting pin name the node it is on now', async () => {
    const { model, seed, ctx, cache } = modelFixture();
    const nic = (name: string, node: string, ip?: string) =>
      seed(model.keys.object('ContainerNic', name), { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta(name, { finalizers: ['xnet.io/address-in-use'] }), spec: { node, container: name, ifName: 'eth1', network: { macvlanNet: 'lan' }, ...(ip ? { ip } : {}) } });
    seed(model.keys.object('MacvlanNet', 'lan'), { apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: meta('lan'), spec: { subnet: '10.20.0.0/24', ipRange: '10.20.0.128/25', nodeSelector: { matchLabels: { none: 'x' } } } });
    // the nodes exist: a NIC whose Node does not waits without an address (nic-node-gate.ts)
    for (const n of ['host-1', 'host-2', 'host-3']) seed(model.keys.object('Node', n), { apiVersion: API_VERSION, kind: 'Node', metadata: meta(n), spec: {} });
    nic('a', 'host-1');
    const first = new TxnPlan(guard, leaderKey);
    const got = allocateNic(ctx, 'a', first, new Map());
    expect(got).toMatchObject({ result: 'allocated' });
    expect(await first.commit(client, cache)).toBe(true);
    nic('a', 'host-2');
    const moved = new TxnPlan(guard, leaderKey);
    expect(allocateNic(ctx, 'a', moved, new Map())).toMatchObject({ ip: got.ip });
    expect(await moved.commit(client, cache)).toBe(true);
    expect(model.claimsIn('macvlannets', 'lan', 'addresses').get(parseIPv4(got.ip!))?.claim).toMatchObject({ owner: { name: 'a' }, node: 'host-2' });
    nic('b', 'host-3', got.ip);
    const pinned = allocateNic(ctx, 'b', new TxnPlan(guard, leaderKey), new Map());
    expect(pinned).toMatchObject({ result: 'waiting', reason: 'IPConflict' });
    expect(pinned.message).toContain('ContainerNic "a" on node "host-2"');
  });
});
