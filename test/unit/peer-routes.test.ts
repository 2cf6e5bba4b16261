// A routes pass is level-triggered: it looks at every peer's HostSubnet. With a thousand peers
// the agent must not re-check a thousand unchanged HostSubnets on every pass (three passes per
// new node on every host made a new node's route take seconds at 1,000 hosts): each verdict
// is kept until its HostSubnet object, its node's spec.address or the host's addresses change,
// and the memo's answer is the same as checking afresh.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type HostSubnet, type Node } from '../../pkg/api/index.js';
import { PeerRouteMemo, peerRoutes } from '../../pkg/agent/peer-routes.js';

const LOCAL = ['198.18.0.1/16'];
const hs = (i: number, status: Record<string, unknown> = {}): HostSubnet => ({
  apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: `default-host-${i}` },
  spec: { node: `host-${i}`, clusterNetwork: 'default', icc: true },
  status: { subnet: `10.${64 + (i >> 8)}.${i & 255}.0/24`, nodeAddress: `198.18.${1 + (i >> 8)}.${i & 255}`, ...status },
});
const node = (i: number, address?: string): Node => ({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: `host-${i}` }, spec: address ? { address } : {} });

describe('peer routes over a thousand peers', () => {
  const subnets = Array.from({ length: 1000 }, (_, i) => hs(i + 1));
  const nodes = new Map(subnets.map((h, i) => [h.spec.node, node(i + 1)]));

  it('checks each HostSubnet once; a pass with nothing changed checks none', () => {
    const memo = new PeerRouteMemo();
    const first = peerRoutes('host-1', subnets, nodes, LOCAL, memo);
    expect(memo.checked).toBe(999);
    expect(first.routes).toHaveLength(999);
    const again = peerRoutes('host-1', subnets, nodes, LOCAL, memo);
    expect(memo.checked).toBe(999);
    expect(again).toEqual(first);
  });

  it('re-checks only the HostSubnet that changed, and routes via its new address', () => {
    const memo = new PeerRouteMemo();
    peerRoutes('host-1', subnets, nodes, LOCAL, memo);
    const changed = [...subnets];
    changed[499] = hs(500, { nodeAddress: '198.18.9.9' });
    const r = peerRoutes('host-1', changed, nodes, LOCAL, memo);
    expect(memo.checked).toBe(1000);
    expect(r.routes).toContainEqual({ dst: changed[499].status!.subnet, via: '198.18.9.9' });
    expect(r).toEqual(peerRoutes('host-1', changed, nodes, LOCAL));
  });

  it('re-checks a HostSubnet whose next hop is its Node\'s spec.address when that changes, and all when the host\'s addresses change', () => {
    const memo = new PeerRouteMemo();
    const withoutStatusAddress = [...subnets];
    withoutStatusAddress[9] = hs(10, { nodeAddress: undefined });
    peerRoutes('host-1', withoutStatusAddress, nodes, LOCAL, memo);
    const moved = new Map(nodes).set('host-10', node(10, '198.18.7.7'));
    const r = peerRoutes('host-1', withoutStatusAddress, moved, LOCAL, memo);
    expect(memo.checked).toBe(1000);
    expect(r.routes).toContainEqual({ dst: withoutStatusAddress[9].status!.subnet, via: '198.18.7.7' });
    // this host now sits on 10.64.5.0/24: the route to that peer subnet would capture its own traffic
    const local = [...LOCAL, '10.64.5.1/24'];
    const after = peerRoutes('host-1', withoutStatusAddress, moved, local, memo);
    expect(memo.checked).toBe(1000 + 999);
    expect(after.routes.find((x) => x.dst === '10.64.5.0/24')).toBeUndefined();
    expect(after.problems.map((p) => p.reason)).toEqual(['UnsafeRoute']);
  });
});
