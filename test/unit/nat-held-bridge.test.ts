// A HostSubnet's spec.bridge edited while containers are attached to its Docker network: Docker
// cannot rename the network's bridge, so the network stays on the old one (HostSubnet
// NetworkInUse) until they leave. XNET-FORWARD named only the new bridge, which does not exist
// yet: Docker's FORWARD policy dropped all cluster traffic to and from the old one, and the
// node's containers were cut off every other host (seen in the lab: `ping 10.76.2.84` from
// host-1's container failed right after `bridge: br02` became `bridge: br12` in seed000.yaml).
import { describe, expect, it } from 'vitest';
import { desiredNat } from '../../pkg/agent/desired.js';
import { FWD_CHAIN, NAT_CHAIN, forwardRules, natRules, planNat } from '../../pkg/agent/planner/index.js';
import type { ClusterNetwork, HostSubnet } from '../../pkg/api/types.js';

const cn = { apiVersion: 'xnet.io/v1alpha1', kind: 'ClusterNetwork', metadata: { name: 'default' }, spec: { cidr: '10.76.0.0/16', hostPrefix: 24 } } as ClusterNetwork;
const renamed = {
  apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: { name: 'default-host-2' },
  spec: { node: 'host-2', clusterNetwork: 'default', subnet: '10.76.2.0/24', gateway: '10.76.2.1', bridge: 'br12' },
  status: { subnet: '10.76.2.0/24', gateway: '10.76.2.1', bridge: 'br12' },
} as HostSubnet;

describe('XNET-FORWARD while a renamed HostSubnet bridge waits for its containers to leave', () => {
  const d = desiredNat([cn], [renamed]);
  // what Docker still has: the HostSubnet's network on its old bridge
  const held = { bridge: 'br02', subnet: '10.76.2.0/24', hostSubnet: 'default-host-2' };

  it('keeps admitting cluster traffic through the bridge the network is still on', () => {
    const rules = forwardRules(d, [held]);
    expect(rules).toContain('-s 10.76.2.0/24 -d 10.76.0.0/16 -i br02 -j ACCEPT');
    expect(rules).toContain('-s 10.76.0.0/16 -d 10.76.2.0/24 -o br02 -j ACCEPT');
    expect(rules).toContain('-i br02 -o br02 -j RETURN');
    // and the new bridge's, so traffic flows the moment the network is made again on it
    expect(rules).toContain('-s 10.76.0.0/16 -d 10.76.2.0/24 -o br12 -j ACCEPT');
  });

  it('adds nothing for a network of another HostSubnet or subnet, nor once the network is on the new bridge', () => {
    const base = forwardRules(d, []);
    expect(forwardRules(d, [{ ...held, bridge: 'br12' }])).toEqual(base);
    expect(forwardRules(d, [{ ...held, subnet: '10.76.9.0/24' }])).toEqual(base);
    expect(forwardRules(d, [{ ...held, hostSubnet: 'default-host-9' }]).filter((r) => r.includes('ACCEPT') && r.includes('br02'))).toEqual([]);
  });

  it('keeps them while Docker has not answered (an agent just started, Docker slow): the chain is not rewritten without them', () => {
    const written = forwardRules(d, [held]);
    const kept = forwardRules(d, undefined, written);
    expect(kept).toContain('-s 10.76.0.0/16 -d 10.76.2.0/24 -o br02 -j ACCEPT');
    expect(kept).toEqual(written);
    const filter = { chains: ['FORWARD', FWD_CHAIN], rules: { FORWARD: [`-j ${FWD_CHAIN}`], [FWD_CHAIN]: written } };
    const nat = { chains: ['POSTROUTING', NAT_CHAIN], rules: { POSTROUTING: [`-j ${NAT_CHAIN}`], [NAT_CHAIN]: natRules(d) } };
    expect(planNat(d, { nat, filter, ipForward: '1', dockerNetworks: undefined }).ops).toEqual([]);
    // nor kept for a bridge the chain admits another subnet from
    expect(forwardRules(d, undefined, written.map((r) => r.replace('-s 10.76.2.0/24', '-s 10.76.9.0/24')))).toEqual(forwardRules(d, []));
  });
});
