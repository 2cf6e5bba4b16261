// Docker networks xnet did not make, whose subnet lies in a ClusterNetwork's CIDR, get their
// traffic returned to Docker's chains by bridge name. A Docker user may name a bridge with any
// character the kernel takes (docker network create -o com.docker.network.bridge.name='br"x'):
// iptables-restore read the quote as the start of a quoted word, the rule came back different
// from what was written, and the agent rewrote XNET-FORWARD some 30 times a second, for ever.
import { describe, expect, it } from 'vitest';
import { FWD_CHAIN, NAT_CHAIN, forwardRules, natRules, planNat } from '../../pkg/agent/planner/index.js';

describe('XNET-FORWARD and Docker networks with odd bridge names', () => {
  const d = { clusterCidrs: ['10.99.0.0/16'], local: [{ bridge: 'br01', subnet: '10.99.1.0/24' }] };
  const odd = ['br"x', "br'x", 'br\\x', 'br+', 'br#x', '!br'];

  it('writes no rule naming a bridge that is not a plain interface name, and comes to rest', () => {
    const docker = [...odd.map((bridge, i) => ({ bridge, subnet: `10.99.${10 + i}.0/24` })), { bridge: 'br-0123456789ab', subnet: '10.99.7.0/24' }];
    const rules = forwardRules(d, docker);
    for (const b of odd) expect(rules.filter((r) => r.includes(b))).toEqual([]);
    // a plain one keeps its returns
    expect(rules).toContain('-s 10.99.7.0/24 -i br-0123456789ab -j RETURN');
    // the chains as written read back the same: nothing more to do
    const filter = { chains: ['FORWARD', FWD_CHAIN], rules: { FORWARD: [`-j ${FWD_CHAIN}`], [FWD_CHAIN]: rules } };
    const nat = { chains: ['POSTROUTING', NAT_CHAIN], rules: { POSTROUTING: [`-j ${NAT_CHAIN}`], [NAT_CHAIN]: natRules(d) } };
    expect(planNat(d, { nat, filter, ipForward: '1', dockerNetworks: docker }).ops).toEqual([]);
  });
});
