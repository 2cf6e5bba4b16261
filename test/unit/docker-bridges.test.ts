// Which bridges the NAT reconciler may hand back to Docker's own chains: Docker's bridge networks,
// under the name Docker gives them, each with the HostSubnet its owner label names (the planner
// keeps those of HostSubnets this node serves: nat-network-owner.test.ts).
import { describe, expect, it } from 'vitest';
import { ForeignNetworks, foreignNetworksOf } from '../../pkg/agent/dataplane.js';
import { DockerError } from '../../pkg/docker/types.js';
import { endpointsOf } from '../../pkg/docker/client.js';
import type { DockerNetwork } from '../../pkg/docker/types.js';

const net = (name: string, extra: Partial<DockerNetwork> = {}): DockerNetwork => ({
  id: `${name.padEnd(12, '0')}ffffffffffffffff`, name, driver: 'bridge', subnet: '', options: {}, labels: {}, containers: 0, ...extra,
});

describe('foreignNetworksOf', () => {
  it('names docker0 and a user network\'s br-<id[:12]> with every IPv4 subnet, a HostSubnet\'s with the HostSubnet its label names (only such a label names one), never other drivers or a network without a subnet', () => {
    expect(foreignNetworksOf([
      net('bridge', { subnet: '172.17.0.0/16', options: { 'com.docker.network.bridge.name': 'docker0' } }),
      net('usernet', { subnet: '10.81.250.0/24' }),
      net('nosubnet'),
      net('dual', { subnet: 'fd00::/64', subnets: ['fd00::/64', '10.82.7.0/24', '10.82.8.0/24'] }),
      net('alpha', { options: { 'com.docker.network.bridge.name': 'xbr0' }, labels: { 'io.xnet.owner': 'HostSubnet/alpha-host-1' } }),
      net('beta', { subnet: '10.82.9.0/24', options: { 'com.docker.network.bridge.name': 'xbr1' }, labels: { 'io.xnet.owner': 'HostSubnet/beta-host-1' } }),
      net('labelled', { subnet: '10.82.10.0/24', labels: { 'io.xnet.owner': 'whatever' } }),
      net('mv', { driver: 'macvlan' }),
      net('host', { driver: 'host' as never }),
    ])).toEqual([{ bridge: 'docker0', subnet: '172.17.0.0/16' }, { bridge: 'br-usernet00000', subnet: '10.81.250.0/24' },
      { bridge: 'br-dual00000000', subnet: '10.82.7.0/24' }, { bridge: 'br-dual00000000', subnet: '10.82.8.0/24' },
      { bridge: 'xbr1', subnet: '10.82.9.0/24', hostSubnet: 'beta-host-1' }, { bridge: 'br-labelled0000', subnet: '10.82.10.0/24' }]);
  });
});

describe('ForeignNetworks: what the NAT pass gets while Docker is slow or down', () => {
  const user = net('usernet', { subnet: '10.81.250.0/24' });
  const hung = () => new Promise<DockerNetwork[]>(() => {});

  it('undefined before Docker ever answered, within the wait, when the daemon hangs', async () => {
    const t0 = Date.now();
    expect(await new ForeignNetworks(hung, 100).get()).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('the last list while Docker hangs or refuses, one request at a time', async () => {
    let calls = 0;
    let answer: () => Promise<DockerNetwork[]> = async () => [user];
    const f = new ForeignNetworks(() => { calls++; return answer(); }, 100);
    expect(await f.get()).toEqual([{ bridge: 'br-usernet00000', subnet: '10.81.250.0/24' }]);
    answer = hung;
    expect(await f.get()).toEqual([{ bridge: 'br-usernet00000', subnet: '10.81.250.0/24' }]);
    expect(await f.get()).toHaveLength(1);
    expect(calls).toBe(2); // the hung request is not asked again while it runs
    const refused = new ForeignNetworks(async () => { throw new DockerError('DockerUnavailable', 'connect ECONNREFUSED'); }, 100);
    expect(await refused.get()).toBeUndefined();
  });
});

describe('endpointsOf (a network inspect, read as untrusted)', () => {
  it('gives an empty name or address for a field of another type instead of throwing', () => {
    expect(endpointsOf({ Containers: { a: null, b: { IPv4Address: 5, Name: ['x'], MacAddress: 7 }, c: { Name: 'web', IPv4Address: '10.0.0.2/24', MacAddress: '02:42:0A:00:00:02' } } })).toEqual([
      { container: 'a', name: '', ip: '', mac: '' },
      { container: 'b', name: '', ip: '', mac: '' },
      { container: 'c', name: 'web', ip: '10.0.0.2', mac: '02:42:0a:00:00:02' },
    ]);
    expect(endpointsOf({ Containers: 'nonsense' })).toEqual([]);
    expect(endpointsOf(null)).toEqual([]);
  });
});
