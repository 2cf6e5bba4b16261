// A routes pass is level-triggered: it looks at every peer's HostSubnet. With a thousand peers
// the agent must not re-check a thousand unchanged HostSubnets on every pass (three passes per
// new node on every host made a new node's route take seconds at 1,000 hosts): each verdict
// is kept until its HostSubnet object, its node's spec.address, its ClusterNetwork's cidr or the
// host's addresses change, and the memo's answer is the same as checking afresh. A peer's subnet
// is routed only inside its ClusterNetwork: a HostSubnet (or the controller's status of it) that
// names any other network must not take this host's traffic for it to that peer.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type ClusterNetwork, type HostSubnet, type Node } from '../../pkg/api/index.js';
import { PeerRouteMemo, peerRoutes, type PeerLookups } from '../../pkg/agent/peer-routes.js';
import { planRoutes } from '../../pkg/agent/planner/routes.js';
import { XNET_RT_PROTO } from '../../pkg/netlink/types.js';

const LOCAL = ['198.18.0.1/16'];
const hs = (i: number, status: Record<string, unknown> = {}): HostSubnet => ({
  apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: `default-host-${i}` },
  spec: { node: `host-${i}`, clusterNetwork: 'default', icc: true },
  status: { subnet: `10.${64 + (i >> 8)}.${i & 255}.0/24`, nodeAddress: `198.18.${1 + (i >> 8)}.${i & 255}`, ...status },
});
const cn = (name: string, cidr: string, hostPrefix = 24, status?: Record<string, unknown>): ClusterNetwork => ({
  apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: { name }, spec: { cidr, hostPrefix, bridgePrefix: 'br', masquerade: true }, ...(status ? { status } : {}),
});
const DEFAULT = cn('default', '10.64.0.0/10');
const lookups = (nodes: PeerLookups['nodes'], ...cns: ClusterNetwork[]): PeerLookups =>
  ({ nodes, clusterNetworks: new Map((cns.length ? cns : [DEFAULT]).map((c) => [c.metadata.name, c])) });
const node = (i: number, address?: string): Node => ({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: `host-${i}` }, spec: address ? { address } : {} });

describe('peer routes over a thousand peers', () => {
  const subnets = Array.from({ length: 1000 }, (_, i) => hs(i + 1));
  const nodes = new Map(subnets.map((h, i) => [h.spec.node, node(i + 1)]));

  it('checks each HostSubnet once; a pass with nothing changed checks none', () => {
    const memo = new PeerRouteMemo();
    const first = peerRoutes('host-1', subnets, lookups(nodes), LOCAL, memo);
    expect(memo.checked).toBe(999);
    expect(first.routes).toHaveLength(999);
    const again = peerRoutes('host-1', subnets, lookups(nodes), LOCAL, memo);
    expect(memo.checked).toBe(999);
    expect(again).toEqual(first);
  });

  it('re-checks only the HostSubnet that changed, and routes via its new address', () => {
    const memo = new PeerRouteMemo();
    peerRoutes('host-1', subnets, lookups(nodes), LOCAL, memo);
    const changed = [...subnets];
    changed[499] = hs(500, { nodeAddress: '198.18.9.9' });
    const r = peerRoutes('host-1', changed, lookups(nodes), LOCAL, memo);
    expect(memo.checked).toBe(1000);
    expect(r.routes).toContainEqual({ dst: changed[499].status!.subnet, via: '198.18.9.9' });
    expect(r).toEqual(peerRoutes('host-1', changed, lookups(nodes), LOCAL));
  });

  it('re-checks a HostSubnet whose next hop is its Node\'s spec.address when that changes, and all when the host\'s addresses change', () => {
    const memo = new PeerRouteMemo();
    const withoutStatusAddress = [...subnets];
    withoutStatusAddress[9] = hs(10, { nodeAddress: undefined });
    peerRoutes('host-1', withoutStatusAddress, lookups(nodes), LOCAL, memo);
    const moved = new Map(nodes).set('host-10', node(10, '198.18.7.7'));
    const r = peerRoutes('host-1', withoutStatusAddress, lookups(moved), LOCAL, memo);
    expect(memo.checked).toBe(1000);
    expect(r.routes).toContainEqual({ dst: withoutStatusAddress[9].status!.subnet, via: '198.18.7.7' });
    // this host now sits on 10.64.5.0/24: the route to that peer subnet would capture its own traffic
    const local = [...LOCAL, '10.64.5.1/24'];
    const after = peerRoutes('host-1', withoutStatusAddress, lookups(moved), local, memo);
    expect(memo.checked).toBe(1000 + 999);
    expect(after.routes.find((x) => x.dst === '10.64.5.0/24')).toBeUndefined();
    expect(after.problems.map((p) => p.reason)).toEqual(['UnsafeRoute']);
  });
});

describe('a peer\'s subnet is routed only inside its ClusterNetwork', () => {
  const nodes = new Map<string, Node>();
  const hostile = (clusterNetwork: string): HostSubnet => ({
    ...hs(2), metadata: { name: 'hostile' }, spec: { node: 'host-2', clusterNetwork, icc: true },
    status: { subnet: '172.16.0.0/12', nodeAddress: '198.18.1.2' },
  });
  // what an earlier agent (or this one, before the ClusterNetwork went) installed
  const installed = [{ dst: '172.16.0.0/12', via: '198.18.1.2', proto: String(XNET_RT_PROTO) }];

  it.each([
    ['does not exist', lookups(nodes, DEFAULT), /ClusterNetwork "cn" does not exist, so 172\.16\.0\.0\/12 lies in no ClusterNetwork/],
    ['does not contain it', lookups(nodes, DEFAULT, cn('cn', '10.200.0.0/16')), /172\.16\.0\.0\/12 is not inside ClusterNetwork "cn" \(10\.200\.0\.0\/16\)/],
  ])('172.16.0.0/12 of ClusterNetwork cn, which %s: no route, a problem naming HostSubnet, subnet and ClusterNetwork, and the old route goes', (_, l, why) => {
    const r = peerRoutes('host-1', [hostile('cn'), hs(3)], l, LOCAL);
    expect(r.routes).toEqual([{ dst: '10.64.3.0/24', via: '198.18.1.3' }]);
    expect(r.keep).toEqual([]);
    expect(r.problems).toEqual([{ reason: 'UnsafeRoute', message: expect.stringMatching(/^HostSubnet hostile: no route for 172\.16\.0\.0\/12 via 198\.18\.1\.2: /) }]);
    expect(r.problems[0].message).toMatch(why);
    expect(planRoutes(r.routes, installed, () => true, r.keep).ops).toEqual([
      { op: 'route.replace', dst: '10.64.3.0/24', via: '198.18.1.3' },
      { op: 'route.del', dst: '172.16.0.0/12', via: '198.18.1.2', proto: String(XNET_RT_PROTO) },
    ]);
  });

  it('refuses a subnet larger than hostPrefix unless the HostSubnet pins it, and keeps no route for one outside whose next hop is bad too', () => {
    const wide = hs(4, { subnet: '10.64.0.0/22' });
    expect(peerRoutes('host-1', [wide], lookups(nodes), LOCAL).problems[0].message).toMatch(/larger than ClusterNetwork "default"'s hostPrefix \/24/);
    const pinned = { ...wide, spec: { ...wide.spec, subnet: '10.64.0.0/22' } };
    expect(peerRoutes('host-1', [pinned], lookups(nodes), LOCAL)).toEqual({ routes: [{ dst: '10.64.0.0/22', via: '198.18.1.4' }], keep: [], problems: [] });
    const badHop = { ...hostile('default'), status: { subnet: '172.16.0.0/12', nodeAddress: '198.18.0.1' } };
    expect(peerRoutes('host-1', [badHop], lookups(nodes), LOCAL)).toMatchObject({ routes: [], keep: [] });
    const badValue = { ...hostile('default'), status: { subnet: '172.16.0.0/12', nodeAddress: 'not an address' } };
    expect(peerRoutes('host-1', [badValue], lookups(nodes), LOCAL)).toMatchObject({ routes: [], keep: [], problems: [{ reason: 'InvalidStatus' }] });
  });

  it('checks a verdict again when the ClusterNetwork\'s cidr changes, not when only its status does', () => {
    const memo = new PeerRouteMemo();
    const peers = [hs(5), hs(6)];
    expect(peerRoutes('host-1', peers, lookups(nodes, DEFAULT), LOCAL, memo).routes).toHaveLength(2);
    expect(memo.checked).toBe(2);
    // the controller's counts change with every node that joins: a new object, the same pool
    peerRoutes('host-1', peers, lookups(nodes, cn('default', '10.64.0.0/10', 24, { allocated: 7 })), LOCAL, memo);
    expect(memo.checked).toBe(2);
    const moved = peerRoutes('host-1', peers, lookups(nodes, cn('default', '10.128.0.0/10')), LOCAL, memo);
    expect(memo.checked).toBe(4);
    expect(moved.routes).toEqual([]);
    expect(moved.problems.map((p) => p.message)).toEqual([
      expect.stringContaining('HostSubnet default-host-5: no route for 10.64.5.0/24 via 198.18.1.5: 10.64.5.0/24 is not inside ClusterNetwork "default" (10.128.0.0/10)'),
      expect.stringContaining('default-host-6'),
    ]);
    expect(moved).toEqual(peerRoutes('host-1', peers, lookups(nodes, cn('default', '10.128.0.0/10')), LOCAL));
    // gone from the view: checked again, and no route
    expect(peerRoutes('host-1', peers, lookups(nodes, cn('other', '10.64.0.0/10')), LOCAL, memo).routes).toEqual([]);
    expect(memo.checked).toBe(6);
  });
});

// A user's `xctl delete hs` only marks the HostSubnet (xnet.io/block-in-use): the controller
// deletes it a moment later and, while the node is still selected, makes it again on the same
// block. Dropping the peers' routes at the mark cut the node's containers off for that moment.
describe('a peer\'s HostSubnet being deleted (deletionTimestamp set)', () => {
  it('keeps its route until it is gone', () => {
    const marked = { ...hs(5), metadata: { ...hs(5).metadata, deletionTimestamp: '2026-12-05T18:00:00Z', finalizers: ['xnet.io/block-in-use'] } };
    expect(peerRoutes('host-1', [marked], lookups(new Map()), LOCAL).routes).toEqual([{ dst: '10.64.5.0/24', via: '198.18.1.5' }]);
  });
});
