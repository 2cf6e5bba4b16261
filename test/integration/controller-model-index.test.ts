// The controller's index of HostSubnets by node (pkg/controller/model.ts), which every
// HostSubnet's bridge check asks for its node's others: real etcd, the real controller's cache.
// It must follow a HostSubnet that moves to another node and one that goes, as the cache does.
import { describe, expect, it } from 'vitest';
import { obj, useControllerFixture, eventually, uniquePrefix } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);

const names = (entries: Array<{ obj: { metadata: { name: string } } }>) => entries.map((e) => e.obj.metadata.name).sort();
const onNode = (node: string) => names(fx.c.model.hostSubnetsOnNode(node));
const ofNetwork = (cn: string, node: string) => names(fx.c.model.hostSubnetsOf(cn, node));
const handMade = (node: string) => obj('HostSubnet', 'hand', { node, clusterNetwork: 'manual', subnet: '10.63.7.0/24' });

describe('the controller\'s HostSubnets by node', () => {
  it('lists a node\'s HostSubnets of every network, and follows one moved to another node and one deleted', async () => {
    await fx.store.applyAll([
      obj('ClusterNetwork', 'auto', { cidr: '10.62.0.0/16', hostPrefix: 24 }),
      // selects no node: its HostSubnets are the hand-made ones
      obj('ClusterNetwork', 'manual', { cidr: '10.63.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { pool: 'none' } } }),
      obj('Node', 'host-1', {}), obj('Node', 'host-2', {}),
    ]);
    await eventually(async () => onNode('host-1').length === 1 && onNode('host-2').length === 1, 'a HostSubnet of "auto" on each node');
    const [auto1] = onNode('host-1');
    const [auto2] = onNode('host-2');

    await fx.store.applyAll([handMade('host-1')]);
    await eventually(async () => onNode('host-1').length === 2, 'the hand-made HostSubnet on host-1');
    expect(onNode('host-1')).toEqual([auto1, 'hand'].sort());
    expect(ofNetwork('manual', 'host-1')).toEqual(['hand']);
    expect(ofNetwork('auto', 'host-1')).toEqual([auto1]);

    await fx.store.applyAll([handMade('host-2')]);
    await eventually(async () => onNode('host-2').length === 2, 'the HostSubnet moved to host-2');
    expect(onNode('host-2')).toEqual([auto2, 'hand'].sort());
    expect(onNode('host-1')).toEqual([auto1]);
    expect(ofNetwork('manual', 'host-1')).toEqual([]);

    await fx.store.delete('HostSubnet', 'hand');
    await eventually(async () => onNode('host-2').length === 1, 'the hand-made HostSubnet gone');
    expect(onNode('host-2')).toEqual([auto2]);
    expect(ofNetwork('manual', 'host-2')).toEqual([]);
  });
});
