// Which bridges the NAT reconciler hands back to Docker's own chains: those of Docker's bridge
// networks that xnet did not make, under the name Docker gives them.
import { describe, expect, it } from 'vitest';
import { foreignNetworksOf } from '../../pkg/agent/dataplane.js';
import type { DockerNetwork } from '../../pkg/docker/types.js';

const net = (name: string, extra: Partial<DockerNetwork> = {}): DockerNetwork => ({
  id: `${name.padEnd(12, '0')}ffffffffffffffff`, name, driver: 'bridge', subnet: '', options: {}, labels: {}, containers: 0, ...extra,
});

describe('foreignNetworksOf', () => {
  it('names docker0 and a user network\'s br-<id[:12]> with every IPv4 subnet, never xnet\'s bridges, other drivers or a network without a subnet', () => {
    expect(foreignNetworksOf([
      net('bridge', { subnet: '172.17.0.0/16', options: { 'com.docker.network.bridge.name': 'docker0' } }),
      net('usernet', { subnet: '10.81.250.0/24' }),
      net('nosubnet'),
      net('dual', { subnet: 'fd00::/64', subnets: ['fd00::/64', '10.82.7.0/24', '10.82.8.0/24'] }),
      net('alpha', { options: { 'com.docker.network.bridge.name': 'xbr0' }, labels: { 'io.xnet.owner': 'HostSubnet/alpha-host-1' } }),
      net('mv', { driver: 'macvlan' }),
      net('host', { driver: 'host' as never }),
    ])).toEqual([{ bridge: 'docker0', subnet: '172.17.0.0/16' }, { bridge: 'br-usernet00000', subnet: '10.81.250.0/24' },
      { bridge: 'br-dual00000000', subnet: '10.82.7.0/24' }, { bridge: 'br-dual00000000', subnet: '10.82.8.0/24' }]);
  });
});
