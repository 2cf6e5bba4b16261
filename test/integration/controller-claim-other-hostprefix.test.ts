// A HostSubnet block claim the controller wrote under a ClusterNetwork that was deleted and
// applied again under its name with another hostPrefix (the documented way to change it,
// docs/api.md). A hand-written HostSubnet is left alone by the delete and keeps its claims; a
// pinned subnet smaller than the old hostPrefix was kept at the base of the old block. Found by
// review: the misfit rule (keys.ts pinnedBlockMisfit) judged that claim by the new hostPrefix and
// held it unreadable, so no one ever deleted it: its block stayed taken for good and `xctl ipam
// check` reported it. One kept for its node (the agent's report says its network is still on
// the host) held only the slot its key names: the other slot its subnet covers went to the next
// node, two hosts with one subnet. A claim last written before its ClusterNetwork was created is
// read as before, its owner's. Real etcd, in-process controller; the node's agent is its status
// key, written by the test.
import { describe, expect, it } from 'vitest';
import type { HostSubnet } from '../../pkg/api/index.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { HS_FINALIZER } from '../../pkg/api/index.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);
const claimKey = (base: string, cn = 'hp') => new IpamKeys(prefix).claim('clusternetworks', cn, 'blocks', parseIPv4(base));
const claimed = async (base: string, cn = 'hp') => (await fx.etcd.client().get(claimKey(base, cn)).string()) !== null;
const claimOwnerUid = async (base: string, cn: string) => {
  const raw = await fx.etcd.client().get(claimKey(base, cn)).string();
  return raw === null ? undefined : (JSON.parse(raw) as { owner?: { uid?: string } }).owner?.uid;
};
const subnetOf = async (name: string) => ((await fx.store.get('HostSubnet', name)) as HostSubnet | undefined)?.status?.subnet;
const network = (hostPrefix: number, name = 'hp', cidr = '10.89.1.0/24') => obj('ClusterNetwork', name, { cidr, hostPrefix, nodeSelector: { matchLabels: { [name]: 'yes' } } });
const allocatedReason = async (name: string) => statusOf(await fx.store.get('HostSubnet', name)).conditions?.find((c) => c.type === 'Allocated')?.reason;

describe('a ClusterNetwork deleted and applied again with another hostPrefix', () => {
  it('a pinned HostSubnet\'s claim kept under the old blocks is its own: released by it, the block handed out again', async () => {
    await fx.store.applyAll([obj('Node', 'host-1', { address: '198.18.0.11' }), obj('Node', 'host-2', { address: '198.18.0.12' }), network(24),
      obj('HostSubnet', 'pin', { node: 'host-1', clusterNetwork: 'hp', subnet: '10.89.1.128/25' })]);
    await eventually(async () => (await subnetOf('pin')) === '10.89.1.128/25' || undefined, 'pin allocated', 15_000);
    expect(await claimed('10.89.1.0'), 'the /25 kept at the base of its /24 block').toBe(true);

    expect(await fx.store.delete('ClusterNetwork', 'hp')).toBe(true);
    await fx.store.applyAll([network(25)]);
    // under /25 blocks pin's subnet is a block of its own, 10.89.1.128: the old claim is released
    await eventually(async () => (await claimed('10.89.1.128') && !(await claimed('10.89.1.0'))) || undefined, 'pin claiming 10.89.1.128 and releasing 10.89.1.0', 15_000);
    const report = await ipamCheck(fx.etcd.client(), prefix);
    expect(report.problems, report.text).toBe(0);

    await fx.store.applyAll([obj('Node', 'host-2', { address: '198.18.0.12' }, { hp: 'yes' })]);
    expect(await eventually(() => subnetOf('hp-host-2'), 'host-2 allocated', 15_000)).toBe('10.89.1.0/25');
  });

  it('a claim kept for its node (its network still on the host): the slots its subnet covers are handed to no one until the node lets it go', async () => {
    await fx.store.applyAll([network(24, 'kp', '10.89.4.0/24'), obj('HostSubnet', 'kpin', { node: 'host-1', clusterNetwork: 'kp', subnet: '10.89.4.128/25' })]);
    const hs = await eventually(async () => {
      const h = (await fx.store.get('HostSubnet', 'kpin')) as HostSubnet | undefined;
      return h?.status?.subnet && h.metadata.finalizers?.includes(HS_FINALIZER) ? h : undefined;
    }, 'kpin allocated and given the finalizer', 15_000);
    // what host-1's agent writes while its network of kpin is on the host
    const ready = { type: 'Ready', status: 'False' as const, reason: 'NetworkInUse', message: 'c1 still attached', lastTransitionTime: new Date().toISOString(), observedGeneration: 1 };
    await fx.store.writeStatus('HostSubnet', 'kpin', { node: 'host-1' }, { keptUntilNetworkGone: true, objectUid: hs.metadata.uid, observedGeneration: 1, conditions: [ready] });
    expect(await fx.store.delete('HostSubnet', 'kpin')).toBe(true);
    await eventually(async () => !(await fx.store.get('HostSubnet', 'kpin')) || undefined, 'kpin deleted', 15_000);
    expect(await fx.store.delete('ClusterNetwork', 'kp')).toBe(true);
    await fx.store.applyAll([network(25, 'kp', '10.89.4.0/24'), obj('Node', 'host-2', { address: '198.18.0.12' }, { kp: 'yes' })]);
    // 10.89.4.0/25 holds the kept claim's key, 10.89.4.128/25 its subnet: none left for host-2
    await eventually(async () => (await allocatedReason('kp-host-2')) === 'PoolExhausted' || undefined, 'kp-host-2 PoolExhausted', 15_000);
    expect(await subnetOf('kp-host-2'), 'host-1\'s network still holds 10.89.4.128/25').toBeUndefined();
    expect(await claimOwnerUid('10.89.4.0', 'kp'), 'the claim kept for kpin').toBe(hs.metadata.uid);

    await fx.store.deleteStatus('HostSubnet', 'kpin', { node: 'host-1' });
    // the freed block wakes kp-host-2 (waiting PoolExhausted), which claims it at once under
    // the same key: the kept claim's going is seen as the key changing hands, not as it absent
    expect(await eventually(() => subnetOf('kp-host-2'), 'kp-host-2 given the block the kept claim freed', 15_000)).toBe('10.89.4.0/25');
    const host2 = await fx.store.get('HostSubnet', 'kp-host-2');
    expect(await claimOwnerUid('10.89.4.0', 'kp'), 'the block now kp-host-2\'s').toBe(host2?.metadata.uid);
    expect(await claimed('10.89.4.128', 'kp'), 'kpin\'s subnet no longer held').toBe(false);
    const report = await ipamCheck(fx.etcd.client(), prefix);
    expect(report.problems, report.text).toBe(0);
  });
});
