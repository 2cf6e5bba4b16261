// A HostSubnet's spec.subnet edited while its node's Docker network is still on the old subnet:
// the agent cannot make that network again while containers are attached (NetworkInUse,
// docs/agent.md), so the old block stays live on the host. Found by review h187: the move freed
// the old block in its own transaction and another node's HostSubnet pinned to it was given it
// ~240 ms later: two hosts, one subnet. Now the old block stays claimed for the node while its
// report keeps the HostSubnet's blocks (the delete's rule) and does not say its network is on
// the new subnet (`networkSubnet`), then goes (controller/hostsubnet-leaving.ts editKeeps).
// Real etcd, in-process controller; the node's agent is its status key, written by the test.
import { describe, it, expect } from 'vitest';
import type { HostSubnet } from '../../pkg/api/index.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { parseCidr } from '../../pkg/ip/ipv4.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix, { addressCooldownMs: 0 });
const hs = (name: string, node: string, subnet: string) => obj('HostSubnet', name, { node, clusterNetwork: 'hs', subnet });
const subnetIs = (name: string, subnet: string) => eventually(async () => {
  const o = await fx.store.get('HostSubnet', name) as HostSubnet | undefined;
  return o && statusOf(o).subnet === subnet ? o : undefined;
}, `${name} on ${subnet}`, 10_000);
const claimOf = async (subnet: string) => {
  const v = await fx.etcd.client().get(new IpamKeys(prefix).claim('clusternetworks', 'hs', 'blocks', parseCidr(subnet).base));
  return v === null ? undefined : JSON.parse(v) as { owner: { name: string }; node?: string };
};
const conditionOf = (o: HostSubnet | undefined, type: string) => (statusOf(o!).conditions as Array<{ type: string; reason: string; message: string }> | undefined)?.find((c) => c.type === type);

/** What host-1's agent writes on hs-1: its network on `networkSubnet` (in place), or waiting for its containers (none). */
async function report(one: HostSubnet, networkSubnet?: string): Promise<void> {
  const ready = networkSubnet
    ? { type: 'Ready', status: 'True' as const, reason: 'Ready', message: 'Docker network hs is in place' }
    : { type: 'Ready', status: 'False' as const, reason: 'NetworkInUse', message: 'web1 still attached' };
  await fx.store.writeStatus('HostSubnet', 'hs-1', { node: 'host-1' }, {
    keptUntilNetworkGone: true, objectUid: one.metadata.uid, ...(networkSubnet ? { networkSubnet } : {}),
    observedGeneration: one.metadata.generation, conditions: [{ ...ready, lastTransitionTime: new Date().toISOString() }],
  });
}

describe('HostSubnet whose subnet is edited while its node\'s network is on the old one', () => {
  it('keeps the old block for the node until its report says the network moved, then frees it', async () => {
    const { store } = fx;
    await store.applyAll([
      obj('ClusterNetwork', 'hs', { cidr: '10.78.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { never: 'x' } } }),
      obj('Node', 'host-1', { address: '198.18.0.21' }), obj('Node', 'host-2', { address: '198.18.0.22' }),
      hs('hs-1', 'host-1', '10.78.1.0/24'),
    ]);
    const one = await subnetIs('hs-1', '10.78.1.0/24');
    await report(one, '10.78.1.0/24');
    await store.applyAll([hs('hs-1', 'host-1', '10.78.2.0/24')]);
    await report(await subnetIs('hs-1', '10.78.2.0/24'));
    await store.applyAll([hs('hs-2', 'host-2', '10.78.1.0/24')]);
    const waiting = await eventually(async () => {
      const o = await store.get('HostSubnet', 'hs-2') as HostSubnet | undefined;
      return conditionOf(o, 'Allocated') ? o : undefined;
    }, 'hs-2 decided', 10_000);
    expect(statusOf(waiting).subnet, 'host-1\'s network is still on 10.78.1.0/24').toBeUndefined();
    expect(conditionOf(waiting, 'Allocated')?.reason).toBe('SubnetConflict');
    expect(conditionOf(waiting, 'Allocated')?.message).toContain('kept while the Docker network on node "host-1" is still on it');
    expect(await claimOf('10.78.1.0/24')).toMatchObject({ owner: { name: 'hs-1' }, node: 'host-1' });
    const audit = await ipamCheck(fx.etcd.client(), prefix);
    expect(audit.problems, audit.text).toBe(0);

    // the agent made its network again on 10.78.2.0/24 (its containers left): the old block goes
    await report(await subnetIs('hs-1', '10.78.2.0/24'), '10.78.2.0/24');
    await subnetIs('hs-2', '10.78.1.0/24');
    expect(await claimOf('10.78.1.0/24')).toMatchObject({ owner: { name: 'hs-2' } });
    expect(statusOf((await store.get('HostSubnet', 'hs-1'))!).subnet).toBe('10.78.2.0/24');
  });
});
