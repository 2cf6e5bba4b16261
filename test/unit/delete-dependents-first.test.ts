// The order a delete of several transactions goes in (api/network-users.ts dependentsFirst):
// what uses something before what it uses, each kind in the order given.
import { describe, expect, it } from 'vitest';
import { dependentsFirst } from '../../pkg/api/network-users.js';

const named = (...refs: string[]) => refs.map((r) => ({ kind: r.split('/')[0], name: r.split('/')[1] }));
const ordered = (items: Array<{ kind: string; name: string }>) => dependentsFirst(items).map((i) => `${items[i].kind}/${items[i].name}`);

describe('dependentsFirst', () => {
  it('puts ContainerNics first, then HostSubnets, then networks and Nodes, each kind in the order given', () => {
    const items = named('Node/h1', 'ClusterNetwork/cn', 'HostSubnet/cn-h1', 'ContainerNic/b', 'MacvlanNet/lan', 'ContainerNic/a', 'HostSubnet/cn-h0');
    expect(ordered(items)).toEqual(['ContainerNic/b', 'ContainerNic/a', 'HostSubnet/cn-h1', 'HostSubnet/cn-h0', 'Node/h1', 'ClusterNetwork/cn', 'MacvlanNet/lan']);
  });

  it('keeps a list already in that order as it is', () => {
    const items = named('ContainerNic/a', 'HostSubnet/s', 'ClusterNetwork/cn', 'Node/h1');
    expect(dependentsFirst(items)).toEqual([0, 1, 2, 3]);
  });
});
