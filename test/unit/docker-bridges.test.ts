// Which bridges the NAT reconciler hands back to Docker's own chains: those of Docker's bridge
// networks that xnet did not make, under the name Docker gives them.
import { describe, expect, it } from 'vitest';
import { dockerBridgesOf } from '../../pkg/agent/dataplane.js';
import type { DockerNetwork } from '../../pkg/docker/types.js';

const net = (name: string, extra: Partial<DockerNetwork> = {}): DockerNetwork => ({
  id: `${name.padEnd(12, '0')}ffffffffffffffff`, name, driver: 'bridge', subnet: '', options: {}, labels: {}, containers: 0, ...extra,
});

describe('dockerBridgesOf', () => {
  it('names docker0, a user network\'s br-<id[:12]>, never xnet\'s bridges or other drivers', () => {
    expect(dockerBridgesOf([
      net('bridge', { options: { 'com.docker.network.bridge.name': 'docker0' } }),
      net('usernet'),
      net('alpha', { options: { 'com.docker.network.bridge.name': 'xbr0' }, labels: { 'io.xnet.owner': 'HostSubnet/alpha-host-1' } }),
      net('mv', { driver: 'macvlan' }),
      net('host', { driver: 'host' as never }),
    ])).toEqual(['docker0', 'br-usernet00000']);
  });
});
