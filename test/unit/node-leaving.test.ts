// Which networks a Node of an apply leaves when its labels change, and how xctl words it.
import { describe, expect, it } from 'vitest';
import { networkLeftWarnings, networksLeft } from '../../pkg/api/node-leaving.js';

const node = (name: string, labels?: Record<string, string>) => ({ kind: 'Node', metadata: { name, labels }, spec: {} });
const cn = (name: string, matchLabels?: Record<string, string>) => ({ kind: 'ClusterNetwork', metadata: { name }, spec: { cidr: '10.0.0.0/16', nodeSelector: matchLabels && { matchLabels } } });
const mvn = (name: string, matchLabels?: Record<string, string>) => ({ kind: 'MacvlanNet', metadata: { name }, spec: { subnet: '10.9.0.0/24', nodeSelector: matchLabels && { matchLabels } } });
const hs = (name: string, n: string, net: string, managed = true) => ({ kind: 'HostSubnet', metadata: { name, labels: managed ? { 'xnet.io/managed-by': 'xnet-controller' } : undefined }, spec: { node: n, clusterNetwork: net } });

describe('networksLeft', () => {
  const stored = [node('host-1', { role: 'db' }), cn('db', { role: 'db' }), cn('all'), mvn('lan', { role: 'db' }), mvn('other', { role: 'web' })];

  it('names each network whose nodeSelector selected the stored Node and not the applied one', () => {
    expect(networksLeft([node('host-1', { role: 'web' })], stored)).toEqual([
      { node: 'host-1', kind: 'ClusterNetwork', network: 'db' },
      { node: 'host-1', kind: 'MacvlanNet', network: 'lan' },
    ]);
  });

  it('nothing for labels that keep the selection, a joined network, a new Node or a network being deleted', () => {
    expect(networksLeft([node('host-1', { role: 'db', extra: 'x' })], stored)).toEqual([]);
    expect(networksLeft([node('host-2', {})], stored)).toEqual([]);
    const deleting = { ...cn('db', { role: 'db' }), metadata: { name: 'db', deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(networksLeft([node('host-1', {})], [node('host-1', { role: 'db' }), deleting])).toEqual([]);
  });

  it('judges the network as the batch leaves it: a selector edited in the same apply', () => {
    expect(networksLeft([node('host-1', { role: 'db' }), cn('all', { role: 'web' })], stored)).toEqual([{ node: 'host-1', kind: 'ClusterNetwork', network: 'all' }]);
  });

  it('names every stored Node a network of the batch no longer selects, with no Node in the batch', () => {
    const nodes = [node('host-1', { role: 'db' }), node('host-2', { role: 'web' }), node('host-3', { role: 'db', rack: 'a' })];
    const before = [...nodes, cn('db', { role: 'db' }), mvn('lan', { role: 'db' })];
    expect(networksLeft([cn('db', { role: 'db', rack: 'a' })], before)).toEqual([{ node: 'host-1', kind: 'ClusterNetwork', network: 'db' }]);
    expect(networksLeft([mvn('lan', { role: 'web' })], before)).toEqual([
      { node: 'host-1', kind: 'MacvlanNet', network: 'lan' },
      { node: 'host-3', kind: 'MacvlanNet', network: 'lan' },
    ]);
    // a selector widened, or a new network, takes nothing away
    expect(networksLeft([cn('db')], before)).toEqual([]);
    expect(networksLeft([cn('new', { role: 'web' })], before)).toEqual([]);
  });
});

describe('networkLeftWarnings', () => {
  it('names the HostSubnets the controller made for the node, which it removes; says a MacvlanNet is left', () => {
    const left = [{ node: 'host-1', kind: 'ClusterNetwork' as const, network: 'db' }, { node: 'host-1', kind: 'MacvlanNet' as const, network: 'lan' }];
    expect(networkLeftWarnings(left, [hs('db-host-1', 'host-1', 'db'), hs('db-host-2', 'host-2', 'db'), hs('pinned', 'host-1', 'db', false)])).toEqual([
      "node/host-1 no longer matches ClusterNetwork db's nodeSelector: its HostSubnet db-host-1 will be removed",
      "node/host-1 no longer matches MacvlanNet lan's nodeSelector: it leaves MacvlanNet lan",
    ]);
    expect(networkLeftWarnings(left.slice(0, 1), [])).toEqual(["node/host-1 no longer matches ClusterNetwork db's nodeSelector: no HostSubnet of it will be made for the node"]);
  });

  it('names the ContainerNics of the node on that network, which lose their addresses (not those deleting, elsewhere or on a MacvlanNet)', () => {
    const nic = (name: string, n: string, network: Record<string, string>, deleting = false) =>
      ({ kind: 'ContainerNic', metadata: { name, ...(deleting ? { deletionTimestamp: 'x' } : {}) }, spec: { node: n, container: name, ifName: 'eth1', network } }) as never;
    const nics = [nic('a1', 'host-1', { clusterNetwork: 'db' }), nic('a2', 'host-1', { clusterNetwork: 'db' }), nic('b1', 'host-2', { clusterNetwork: 'db' }),
      nic('gone', 'host-1', { clusterNetwork: 'db' }, true), nic('m1', 'host-1', { macvlanNet: 'lan' })];
    const left = [{ node: 'host-1', kind: 'ClusterNetwork' as const, network: 'db' }, { node: 'host-1', kind: 'MacvlanNet' as const, network: 'lan' }];
    expect(networkLeftWarnings(left, [hs('db-host-1', 'host-1', 'db')], nics)).toEqual([
      "node/host-1 no longer matches ClusterNetwork db's nodeSelector: its HostSubnet db-host-1 will be removed, and ContainerNics a1, a2 lose their addresses and leave their containers",
      "node/host-1 no longer matches MacvlanNet lan's nodeSelector: it leaves MacvlanNet lan",
    ]);
    expect(networkLeftWarnings(left.slice(0, 1), [hs('db-host-1', 'host-1', 'db')], nics.slice(0, 1))[0]).toMatch(/and ContainerNic a1 loses its address and leaves its container$/);
  });
});
