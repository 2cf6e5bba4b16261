// Authority per field (docs/security.md), against a real etcd and controller: what a node
// writes under its own status keys never overrides the controller's allocations, and the
// address a node reports reaches its peers only after the controller checked it.
import { beforeAll, describe, expect, it } from 'vitest';
import { obj, useControllerFixture, uniquePrefix, statusOf, nodeHeartbeat, statusWaiter } from './controller-helpers.js';


const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);

const heartbeat = nodeHeartbeat;
const waitFor = statusWaiter(fx);

describe('authority per field', () => {
  beforeAll(async () => {
    await fx.store.applyAll([
      obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24 }),
      obj('MacvlanNet', 'mv', { subnet: '192.168.200.0/24' }),
      obj('Node', 'host-1', {}), obj('Node', 'host-2', {}),
    ]);
    await fx.store.writeStatus('Node', 'host-1', { node: 'host-1' }, heartbeat('198.18.0.11'));
    await fx.store.writeStatus('Node', 'host-2', { node: 'host-2' }, heartbeat('198.18.0.12'));
    await waitFor('HostSubnet', 'default-host-1', (s) => s.nodeAddress === '198.18.0.11', 'host-1 routed via its checked address');
    await waitFor('HostSubnet', 'default-host-2', (s) => s.nodeAddress === '198.18.0.12', 'host-2 routed via its checked address');
  });

  it('a node writing subnet 0.0.0.0/0 into its own HostSubnet status changes nothing its peers read', async () => {
    const before = statusOf(await fx.store.get('HostSubnet', 'default-host-1'));
    expect(before.subnet).toMatch(/^10\.76\.\d+\.0\/24$/);
    await fx.store.writeStatus('HostSubnet', 'default-host-1', { node: 'host-1' }, {
      subnet: '0.0.0.0/0', nodeAddress: '198.18.0.11', gateway: '0.0.0.1', bridge: 'eth0', dockerRange: '0.0.0.0/1',
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Converged', message: 'fine', lastTransitionTime: new Date().toISOString() },
        { type: 'Allocated', status: 'True', reason: 'Forged', message: 'by the node', lastTransitionTime: new Date().toISOString() },
      ],
    });
    // The node's own Ready is its to report: seeing it proves the forged key was read.
    const after = statusOf(await waitFor('HostSubnet', 'default-host-1', (s) => s.conditions?.some((x) => x.type === 'Ready' && x.message === 'fine') ?? false, 'node Ready merged'));
    expect(after).toMatchObject({ subnet: before.subnet, gateway: before.gateway, bridge: before.bridge, dockerRange: before.dockerRange, nodeAddress: '198.18.0.11' });
    expect(after.conditions?.find((x) => x.type === 'Allocated')?.reason).toBe('Allocated');
  });

  it.each([
    ['0.0.0.0', /0\.0\.0\.0\/8/],
    ['224.0.0.5', /multicast/],
    ['10.76.3.9', /inside ClusterNetwork "default"/],
    ['192.168.200.7', /one of the addresses MacvlanNet "mv" hands out/],
    ['198.18.0.12', /already the address of Node "host-2"/],
  ])('a reported address %s is refused, peers keep the last good one', async (addr, why) => {
    await fx.store.writeStatus('Node', 'host-1', { node: 'host-1' }, heartbeat(addr));
    const n = await waitFor('Node', 'host-1', (s) => s.conditions?.some((x) => x.type === 'AddressAccepted' && x.status === 'False' && why.test(x.message ?? '')) ?? false, `AddressAccepted=False for ${addr}`);
    expect(statusOf(n).conditions?.find((x) => x.type === 'AddressAccepted')?.reason).toBe('InvalidNodeAddress');
    const ctrl = JSON.parse((await fx.etcd.client().get(`${prefix}/registry/status/controller/nodes/host-1`).string())!);
    expect(ctrl.address).toBe('198.18.0.11');
    expect(statusOf(await fx.store.get('HostSubnet', 'default-host-1')).nodeAddress).toBe('198.18.0.11');
  });

  it('a new valid address is accepted and reaches the HostSubnet', async () => {
    await fx.store.writeStatus('Node', 'host-1', { node: 'host-1' }, heartbeat('198.18.0.21'));
    await waitFor('HostSubnet', 'default-host-1', (s) => s.nodeAddress === '198.18.0.21', 'the new address copied');
    await waitFor('Node', 'host-1', (s) => s.conditions?.some((x) => x.type === 'AddressAccepted' && x.status === 'True') ?? false, 'AddressAccepted=True');
  });

  it('an admin\'s spec.address takes the address from a Node that reported it first, and gives it back when that Node goes', async () => {
    const ctrlAddress = async (node: string) => JSON.parse((await fx.etcd.client().get(`${prefix}/registry/status/controller/nodes/${node}`).string()) ?? '{}').address;
    expect(await ctrlAddress('host-2')).toBe('198.18.0.12');
    // host-2's agent reported .12 first; the admin says .12 is host-3's
    await fx.store.applyAll([obj('Node', 'host-3', { address: '198.18.0.12' })]);
    await waitFor('HostSubnet', 'default-host-3', (s) => s.nodeAddress === '198.18.0.12', 'host-3 routed via its spec.address');
    await waitFor('Node', 'host-2', (s) => s.conditions?.some((x) => x.type === 'AddressAccepted' && x.status === 'False' && /198\.18\.0\.12 is already the address of Node "host-3"/.test(x.message ?? '')) ?? false, 'host-2 AddressAccepted=False');
    expect(await ctrlAddress('host-2')).toBeUndefined();
    await waitFor('HostSubnet', 'default-host-2', (s) => s.nodeAddress === undefined, 'no route to host-2 via host-3\'s address');
    // host-3 goes: host-2, still reporting .12, has it again
    await fx.store.delete('Node', 'host-3');
    await waitFor('HostSubnet', 'default-host-2', (s) => s.nodeAddress === '198.18.0.12', 'host-2 routed via .12 again');
    await waitFor('Node', 'host-2', (s) => s.conditions?.some((x) => x.type === 'AddressAccepted' && x.status === 'True') ?? false, 'host-2 AddressAccepted=True');
  });

  it('a pool made over an accepted address around xctl is named on AddressAccepted, and the node stays routed; the pool gone, it is accepted again', async () => {
    // host-1's agent reports .21 (accepted above); xctl refuses this pool, a raw write (or a
    // pool stored before xctl checked reported addresses) does not
    const ctrlAddress = async (node: string) => JSON.parse((await fx.etcd.client().get(`${prefix}/registry/status/controller/nodes/${node}`).string()) ?? '{}').address;
    const flagged = (node: string, why: RegExp) => waitFor('Node', node, (s) => s.conditions?.some((x) => x.type === 'AddressAccepted' && x.status === 'False' && why.test(x.message ?? '')) ?? false, `${node} AddressAccepted=False`);
    const accepted = (node: string) => waitFor('Node', node, (s) => s.conditions?.some((x) => x.type === 'AddressAccepted' && x.status === 'True') ?? false, `${node} AddressAccepted=True`);
    expect(await ctrlAddress('host-1')).toBe('198.18.0.21');
    await fx.store.applyAll([obj('ClusterNetwork', 'over', { cidr: '198.18.0.20/30', hostPrefix: 30 })]);
    await flagged('host-1', /^198\.18\.0\.21 is inside ClusterNetwork "over" .*accepted before that pool held it, so peers still route via it/);
    // its own reason: the address is still the one peers use (get nodes shows it unmarked)
    const cond = (await fx.store.get('Node', 'host-1'))!.status!.conditions!.find((x) => x.type === 'AddressAccepted');
    expect(cond?.reason).toBe('AddressInPool');
    // named, not cut off: the route to host-1 stays
    expect(await ctrlAddress('host-1')).toBe('198.18.0.21');
    expect(statusOf(await fx.store.get('HostSubnet', 'default-host-1')).nodeAddress).toBe('198.18.0.21');
    // a MacvlanNet is a pool too
    await fx.store.applyAll([obj('MacvlanNet', 'lan', { subnet: '198.18.0.0/28' })]);
    await flagged('host-2', /198\.18\.0\.12 is one of the addresses MacvlanNet "lan" hands out/);
    expect(statusOf(await fx.store.get('HostSubnet', 'default-host-2')).nodeAddress).toBe('198.18.0.12');
    // both pools go: the addresses are accepted without a word again
    await fx.store.delete('MacvlanNet', 'lan');
    await fx.store.delete('ClusterNetwork', 'over');
    await accepted('host-1');
    await accepted('host-2');
    expect(await ctrlAddress('host-1')).toBe('198.18.0.21');
  });
});
