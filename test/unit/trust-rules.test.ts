// The one rules module (pkg/api/rules.ts) and the field authority table, as every party
// applies them: the validator, the allocator, the agent's route check, the store's merge.
import { describe, expect, it } from 'vitest';
import { API_VERSION, crossObjectIssues, type AnyObject, type ClusterNetwork, type HostSubnet, type MacvlanNet, type Node } from '../../pkg/api/index.js';
import { hostSubnetFitWhy, macvlanNetPool, macvlanStaticIpWhy, nodeAddressWhy, peerRouteWhy, unicastWhy } from '../../pkg/api/rules.js';
import { nodeReportable, unauthorizedFields } from '../../pkg/api/authority.js';
import { macvlanRange } from '../../pkg/ipam/plan.js';
import { contains } from '../../pkg/ipam/ranges.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { peerRoutes } from '../../pkg/agent/peer-routes.js';
import { localAddresses } from '../../pkg/agent/reconcilers/routes.js';
import { hiddenNodeConditions, mergeStatus, withStatus } from '../../pkg/store/merge.js';

const LOCAL = ['198.18.0.11/24', '127.0.0.1/8', '10.76.1.1/24'];
const CLUSTER = new Map<string, ClusterNetwork>([['default', {
  apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: { name: 'default' }, spec: { cidr: '10.76.0.0/16', hostPrefix: 24, bridgePrefix: 'br', masquerade: true },
}]]);

describe('routes the agent refuses', () => {
  it.each([
    ['0.0.0.0/0', '198.18.0.12', /never routes prefixes shorter than \/8/],
    ['0.0.0.0/1', '198.18.0.12', /\/1/],
    ['128.0.0.0/1', '198.18.0.12', /\/1/],
    ['8.0.0.0/7', '198.18.0.12', /\/7/],
    ['198.18.0.0/24', '198.18.0.12', /covers 198\.18\.0\.11, an address this node holds/],
    ['198.18.0.11/32', '198.18.0.12', /an address this node holds/],
    ['198.18.0.128/25', '198.18.0.12', /overlaps 198\.18\.0\.0\/24, a network this node is directly on/],
    ['10.76.1.128/25', '198.18.0.12', /overlaps 10\.76\.1\.0\/24/],
    ['10.76.2.0/24', '198.18.0.11', /next hop 198\.18\.0\.11 is this node's own address/],
    ['10.76.2.0/24', '0.0.0.0', /next hop 0\.0\.0\.0/],
    ['10.76.2.0/24', '224.0.0.1', /multicast/],
    ['10.76.2.0/24', '255.255.255.255', /broadcast/],
  ])('%s via %s', (dst, via, why) => {
    expect(peerRouteWhy(dst, via, LOCAL)).toMatch(why);
  });

  it('refuses destinations in loopback or multicast space', () => {
    expect(peerRouteWhy('127.0.0.0/8', '198.18.0.12', [])).toMatch(/not unicast/);
    expect(peerRouteWhy('224.0.0.0/8', '198.18.0.12', [])).toMatch(/not unicast/);
  });

  it('takes the host\'s own networks from its IPv4 addresses (routes with a src say nothing: routes-local-networks.test.ts)', () => {
    expect(localAddresses([{ dev: 'eth0', cidr: '198.18.0.11/24' }, { dev: 'br01', cidr: '10.76.1.1/24' }])).toEqual(['198.18.0.11/24', '10.76.1.1/24']);
  });

  it('accepts a peer subnet via a peer address', () => {
    expect(peerRouteWhy('10.76.2.0/24', '198.18.0.12', LOCAL)).toBeUndefined();
  });

  const hs = (node: string, i: number, status: Record<string, unknown>): HostSubnet => ({
    apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: `default-${node}` },
    spec: { node, clusterNetwork: 'default', icc: true }, status: { subnet: `10.76.${i}.0/24`, gateway: `10.76.${i}.1`, bridge: `br0${i}`, dockerRange: `10.76.${i}.128/25`, ...status },
  });

  it('peerRoutes makes no route for an unsafe HostSubnet and keeps the working route of one with a bad next hop', () => {
    const r = peerRoutes('host-1', [
      hs('host-2', 2, { subnet: '0.0.0.0/0', nodeAddress: '198.18.0.12' }),
      hs('host-3', 3, { nodeAddress: '198.18.0.11' }),
      hs('host-4', 4, { nodeAddress: '198.18.0.14' }),
    ], { nodes: new Map<string, Node>(), clusterNetworks: CLUSTER }, LOCAL);
    expect(r.routes).toEqual([{ dst: '10.76.4.0/24', via: '198.18.0.14' }]);
    expect(r.keep).toEqual(['10.76.3.0/24']);
    expect(r.problems.map((p) => p.reason)).toEqual(['UnsafeRoute', 'UnsafeRoute']);
    expect(r.problems[0].message).toContain('HostSubnet default-host-2: no route for 0.0.0.0/0');
  });

  it('never routes via what a Node reports about itself, only its spec.address', () => {
    const nodes = new Map<string, Node>([
      ['host-2', { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'host-2' }, spec: {}, status: { address: '198.18.0.12' } }],
    ]);
    const r = peerRoutes('host-1', [hs('host-2', 2, {})], { nodes, clusterNetworks: CLUSTER }, LOCAL);
    expect(r.routes).toEqual([]);
    expect(r.keep).toEqual(['10.76.2.0/24']);
  });
});

describe('a node\'s reported address', () => {
  const pools = [{ what: 'ClusterNetwork "default"', cidr: '10.76.0.0/16' }];
  it.each([
    ['0.0.0.0', /"this network"/], ['127.0.0.1', /loopback/], ['239.1.1.1', /multicast/], ['not-an-ip', /not an IPv4/],
    ['10.76.9.9', /inside ClusterNetwork "default"/], ['198.18.0.12', /already the address of Node "host-2"/],
  ])('%s is refused', (addr, why) => {
    expect(nodeAddressWhy('host-1', addr, pools, [{ node: 'host-2', address: '198.18.0.12' }])).toMatch(why);
  });
  it('names a refused report of any size in a short message (it goes into the Node\'s status)', () => {
    const why = nodeAddressWhy('host-1', '1'.repeat(1_400_000), pools, [])!;
    expect(why).toMatch(/^1{61}\.\.\. is not an IPv4 address$/);
    expect(nodeAddressWhy('host-1', { a: 'x'.repeat(1_400_000) }, pools, [])!.length).toBeLessThan(100);
  });
  it('a unicast underlay address is accepted', () => {
    expect(nodeAddressWhy('host-1', '198.18.0.11', pools, [{ node: 'host-1', address: '198.18.0.11' }])).toBeUndefined();
    expect(unicastWhy('198.18.0.11')).toBeUndefined();
  });
  it('on a MacvlanNet\'s LAN, only the addresses it hands out are refused: hosts\' own ones are excluded', () => {
    const mv = macvlanNetPool('mv', { subnet: '192.168.1.0/24', ipRange: '192.168.1.128/25', exclude: ['192.168.1.200/32'], mode: 'bridge', promiscuous: true, hostShim: true, blockPrefix: 28 } as MacvlanNet['spec'])!;
    expect(nodeAddressWhy('host-1', '192.168.1.10', [mv], [])).toBeUndefined();
    expect(nodeAddressWhy('host-1', '192.168.1.200', [mv], [])).toBeUndefined();
    expect(nodeAddressWhy('host-1', '192.168.1.130', [mv], [])).toMatch(/one of the addresses MacvlanNet "mv" hands out \(192\.168\.1\.128\/25\)/);
  });
});

describe('one static-IP rule for apply and the allocator', () => {
  const spec = { subnet: '192.168.200.0/24', ipRange: '192.168.200.128/25', gateway: '192.168.200.1', mode: 'bridge' as const, promiscuous: true, hostShim: true, blockPrefix: 28 } as MacvlanNet['spec'];
  it('an address outside ipRange is refused by xctl apply, as the allocator refuses it', () => {
    expect(contains(macvlanRange(spec), parseIPv4('192.168.200.20'))).toBe(false);
    expect(macvlanStaticIpWhy({ name: 'mv', spec }, '192.168.200.20')).toMatch(/outside MacvlanNet "mv"'s ipRange 192\.168\.200\.128\/25/);
    const mvn = { apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'mv' }, spec } as AnyObject;
    const nic = { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: { name: 'n' }, spec: { node: 'host-1', container: 'c', ifName: 'eth1', network: { macvlanNet: 'mv' }, ip: '192.168.200.20', defaultRoute: false } } as AnyObject;
    expect(crossObjectIssues([nic], [mvn]).map((i) => i.message)).toEqual([expect.stringMatching(/ipRange/)]);
  });
  it('every address the allocator may hand out passes the validator', () => {
    for (const iv of macvlanRange(spec)) for (let ip = iv.first; ip <= iv.last; ip++) {
      const text = [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
      expect(macvlanStaticIpWhy({ name: 'mv', spec }, text)).toBeUndefined();
    }
  });
});

describe('a static IP inside a Docker block the node still holds after a move', () => {
  const spec = { subnet: '192.168.200.0/24', gateway: '192.168.200.1', mode: 'bridge' as const, promiscuous: true, hostShim: true, blockPrefix: 28, dockerIPAM: 'blocks' as const };
  const node = { name: 'host-1', dockerRange: '192.168.200.32/28', previousDockerRange: '192.168.200.16/28' };
  it('is refused by xctl apply, as the allocator refuses it while the old block stays claimed', () => {
    expect(macvlanStaticIpWhy({ name: 'mv', spec }, '192.168.200.20', [node])).toBe(
      '192.168.200.20 is in 192.168.200.16/28, the block node host-1\'s Docker still hands out on MacvlanNet "mv" (it moved to 192.168.200.32/28; freed once its containers leave it)');
    const mvn = { apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'mv' }, spec, status: { nodes: [node] } } as AnyObject;
    const nic = { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: { name: 'n' }, spec: { node: 'host-2', container: 'c', ifName: 'eth1', network: { macvlanNet: 'mv' }, ip: '192.168.200.20', defaultRoute: false } } as AnyObject;
    expect(crossObjectIssues([nic], [mvn]).map((i) => i.message)).toEqual([expect.stringMatching(/192\.168\.200\.16\/28, the block node host-1's Docker still hands out/)]);
    // the block it left is no reason once the node has let it go
    expect(macvlanStaticIpWhy({ name: 'mv', spec }, '192.168.200.20', [{ ...node, previousDockerRange: undefined }])).toBeUndefined();
  });
});

// the range grown back over an address a container kept: until the controller's next round
// moves it from outsideRange to addresses, apply accepted a NIC pinning it (a second holder)
describe('a static IP a container kept outside an edited range', () => {
  const spec = { subnet: '192.168.200.0/24', gateway: '192.168.200.1', mode: 'bridge' as const, promiscuous: true, hostShim: false, blockPrefix: 28, dockerIPAM: 'xnet' as const };
  it('is refused by xctl apply while the status lists it for the node', () => {
    const node = { name: 'host-1', addresses: ['192.168.200.70'], outsideRange: ['192.168.200.20'] };
    const mvn = { apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'mv' }, spec, status: { nodes: [node] } } as AnyObject;
    const nic = { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: { name: 'n' }, spec: { node: 'host-2', container: 'c', ifName: 'eth1', network: { macvlanNet: 'mv' }, ip: '192.168.200.20', defaultRoute: false } } as AnyObject;
    expect(crossObjectIssues([nic], [mvn]).map((i) => i.message)).toEqual([expect.stringMatching(/used by a container on node host-1 on MacvlanNet "mv" \(claimed for it until the container is removed\)/)]);
  });
});

describe('a static IP on a MacvlanNet without spec.gateway', () => {
  const spec = { subnet: '192.168.50.0/24', mode: 'bridge' as const, promiscuous: true, hostShim: true, blockPrefix: 28, dockerIPAM: 'xnet' as const };
  const nicOn = (ip: string) => ({ apiVersion: API_VERSION, kind: 'ContainerNic', metadata: { name: 'n' }, spec: { node: 'host-1', container: 'c', ifName: 'eth1', network: { macvlanNet: 'm1' }, ip, defaultRoute: false } } as AnyObject);
  const mvn = (s: object) => ({ apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'm1' }, spec: s } as AnyObject);
  const text = (ip: number) => [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');

  it('names the subnet\'s first address as the gateway Docker uses, and what to do', () => {
    const why = 'is the default gateway Docker uses on 192.168.50.0/24 (MacvlanNet "m1" sets no spec.gateway), so xnet never hands it out; set spec.gateway or pick another address';
    expect(macvlanStaticIpWhy({ name: 'm1', spec }, '192.168.50.1')).toBe(`192.168.50.1 ${why}`);
    expect(crossObjectIssues([nicOn('192.168.50.1')], [mvn(spec)]).map((i) => i.message)).toEqual([`192.168.50.1 ${why}`]);
    // inside an ipRange the same; outside one, the ipRange is the reason
    expect(macvlanStaticIpWhy({ name: 'm1', spec: { ...spec, ipRange: '192.168.50.0/25' } }, '192.168.50.1')).toBe(`192.168.50.1 ${why}`);
    expect(macvlanStaticIpWhy({ name: 'm1', spec: { ...spec, ipRange: '192.168.50.128/25' } }, '192.168.50.1'))
      .toBe('192.168.50.1 is outside MacvlanNet "m1"\'s ipRange 192.168.50.128/25, the part xnet hands out');
    // with a gateway elsewhere it is an ordinary address
    expect(macvlanStaticIpWhy({ name: 'm1', spec: { ...spec, gateway: '192.168.50.254' } }, '192.168.50.1')).toBeUndefined();
  });

  it('gives every address xnet holds back a reason that names no undefined value', () => {
    for (const s of [spec, { ...spec, subnet: '10.9.0.0/30' }, { ...spec, ipRange: '192.168.50.0/26' }, { ...spec, exclude: ['192.168.50.8/29'] }]) {
      const sub = parseIPv4(s.subnet.split('/')[0]);
      const size = 2 ** (32 - Number(s.subnet.split('/')[1]));
      for (let ip = sub; ip < sub + size; ip++) {
        const why = macvlanStaticIpWhy({ name: 'm1', spec: s }, text(ip));
        expect(why === undefined, `${text(ip)} on ${JSON.stringify(s)}: ${why}`).toBe(contains(macvlanRange(s), ip));
        expect(why ?? '').not.toMatch(/undefined/);
      }
    }
  });
});

describe('a HostSubnet inside its ClusterNetwork (one rule: xctl apply, the controller, the agent on its own and its peers\' HostSubnets)', () => {
  const pool = { name: 'default', cidr: '10.76.0.0/16', hostPrefix: 24 };
  it.each([
    ['172.16.0.0/12', false, /172\.16\.0\.0\/12 is not inside ClusterNetwork "default" \(10\.76\.0\.0\/16\)/],
    ['10.0.0.0/8', true, /not inside ClusterNetwork "default"/],
    ['10.77.1.0/24', false, /not inside/],
    ['10.76.0.0/22', false, /larger than ClusterNetwork "default"'s hostPrefix \/24, and the HostSubnet pins no spec\.subnet/],
    ['10.76.0.0/17', true, /spans 128 \/24 blocks of ClusterNetwork "default"; at most 64/],
  ])('refuses %s (pinned: %s)', (subnet, pinned, why) => {
    expect(hostSubnetFitWhy(subnet, pool, pinned)).toMatch(why);
  });
  it('accepts what the controller allocates: one hostPrefix block, a smaller pinned subnet, a pinned subnet of up to 64 blocks', () => {
    expect(hostSubnetFitWhy('10.76.5.0/24', pool, false)).toBeUndefined();
    expect(hostSubnetFitWhy('10.76.5.0/26', pool, true)).toBeUndefined();
    expect(hostSubnetFitWhy('10.76.64.0/18', pool, true)).toBeUndefined();
  });
  it('refuses every subnet of a ClusterNetwork whose cidr is no pool (written around xctl)', () => {
    expect(hostSubnetFitWhy('8.8.8.0/24', { name: 'wide', cidr: '0.0.0.0/1', hostPrefix: 24 }, false)).toMatch(/ClusterNetwork "wide" is no pool xnet routes: 0\.0\.0\.0\/1 is a \/1/);
  });
  it('xctl apply refuses a pinned subnet the controller would refuse', () => {
    const cn = { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: { name: 'default' }, spec: { cidr: '10.76.0.0/16', hostPrefix: 24 } } as AnyObject;
    const hs = (subnet: string) => ({ apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'x' }, spec: { node: 'host-1', clusterNetwork: 'default', subnet, icc: true } }) as AnyObject;
    expect(crossObjectIssues([hs('10.76.0.0/17')], [cn]).map((i) => i.message)).toEqual([expect.stringMatching(/spans 128 \/24 blocks/)]);
    expect(crossObjectIssues([hs('10.76.0.0/18')], [cn])).toEqual([]);
  });
});

describe('field authority in the merged view', () => {
  it('a node\'s status can carry only what it observes', () => {
    const node = { subnet: '0.0.0.0/0', nodeAddress: '1.2.3.4', observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' as const }, { type: 'Allocated', status: 'True' as const }] };
    expect(nodeReportable('HostSubnet', node)).toEqual({ observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' }] });
    expect(unauthorizedFields('HostSubnet', node)).toEqual(['subnet', 'nodeAddress', 'conditions[type=Allocated]']);
    expect(nodeReportable('ContainerNic', { ip: '10.0.0.1', mac: '02:42:0a:00:00:01' })).toEqual({ mac: '02:42:0a:00:00:01' });
    expect(nodeReportable('HostSubnet', 'not an object' as never)).toBeUndefined();
    // a Node's own facts: whether its pinned address is on the host is the agent's to say
    const own = { conditions: [{ type: 'AddressOnHost', status: 'False' }, { type: 'AddressAccepted', status: 'True' }] };
    expect(nodeReportable('Node', own as never)).toEqual({ conditions: [{ type: 'AddressOnHost', status: 'False' }] });
    // and whether its pinned interface is a link of the host
    expect(nodeReportable('Node', { conditions: [{ type: 'InterfaceOnHost', status: 'False' }] } as never)).toEqual({ conditions: [{ type: 'InterfaceOnHost', status: 'False' }] });
    // the agent's marks on its HostSubnet report are for the controller alone, never shown
    expect(nodeReportable('HostSubnet', { keptUntilNetworkGone: true, objectUid: 'u', observedGeneration: 1 })).toEqual({ observedGeneration: 1 });
  });

  it('withStatus keeps the controller\'s allocation whatever the bound node wrote', () => {
    const hs = { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'h' }, spec: { node: 'host-1', clusterNetwork: 'default', icc: true } } as AnyObject;
    const merged = withStatus(hs, { subnet: '10.76.1.0/24', nodeAddress: '198.18.0.11' }, new Map([['host-1', { subnet: '0.0.0.0/0', nodeAddress: '198.18.0.99' }]]));
    expect(merged.status).toEqual({ subnet: '10.76.1.0/24', nodeAddress: '198.18.0.11' });
    expect(mergeStatus({ a: 1 }, { a: 2 })).toEqual({ a: 2 });
  });

  it('a deleting object\'s Terminating condition from the controller stays over the node\'s, and only then', () => {
    const nic = (deleting: boolean) => ({ apiVersion: API_VERSION, kind: 'ContainerNic', metadata: { name: 'n', ...(deleting ? { deletionTimestamp: '2026-12-03T00:00:00Z' } : {}) }, spec: { node: 'host-1', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'default' } } }) as AnyObject;
    const t = '2026-12-03T00:00:00Z';
    const allocated = { type: 'Allocated', status: 'True' as const, reason: 'Allocated', lastTransitionTime: t };
    const terminating = { type: 'Ready', status: 'False' as const, reason: 'Terminating', message: 'node "host-1" has not reported eth1 removed', lastTransitionTime: t };
    const attached = { type: 'Ready', status: 'True' as const, reason: 'Converged', lastTransitionTime: t };
    const ready = (o: AnyObject) => (o.status as { conditions?: Array<{ type: string; reason?: string }> }).conditions?.find((c) => c.type === 'Ready')?.reason;
    const node = new Map([['host-1', { conditions: [attached] }]]);
    expect(ready(withStatus(nic(true), { ip: '10.76.1.5', conditions: [allocated, terminating] }, node))).toBe('Terminating');
    // not deleting: the node's report, as always
    expect(ready(withStatus(nic(false), { ip: '10.76.1.5', conditions: [allocated, terminating] }, node))).toBe('Converged');
    // deleting, the controller's Ready another reason (not yet looked at): the node's
    expect(ready(withStatus(nic(true), { conditions: [allocated, { ...terminating, reason: 'WaitingForAgent' }] }, node))).toBe('Converged');
    // what it hides is told apart (describe shows it), and only that
    expect(hiddenNodeConditions(nic(true), { conditions: [allocated, terminating] }, node)).toEqual({ node: 'host-1', conditions: [attached] });
    expect(hiddenNodeConditions(nic(false), { conditions: [allocated, terminating] }, node)).toBeUndefined();
    expect(hiddenNodeConditions(nic(true), { conditions: [allocated, { ...terminating, reason: 'WaitingForAgent' }] }, node)).toBeUndefined();
    // another node's report is nobody's to show
    expect(hiddenNodeConditions(nic(true), { conditions: [allocated, terminating] }, new Map([['host-2', { conditions: [attached] }]]))).toBeUndefined();
  });
});

describe('free addresses: next fit with a cooldown', () => {
  const ranges = [{ first: 10, last: 14 }];
  it('starts after the highest claimed address and wraps around', async () => {
    const { pickFree } = await import('../../pkg/controller/nics.js');
    expect(pickFree(ranges, new Map([[10, 1], [12, 1]]), { taken: new Set() }, () => undefined)).toEqual({ ip: 13 });
    expect(pickFree(ranges, new Map([[14, 1]]), { taken: new Set() }, () => undefined)).toEqual({ ip: 10 });
    const rp = { taken: new Set<number>() };
    const a = pickFree(ranges, new Map(), rp, () => undefined) as { ip: number };
    rp.taken.add(a.ip);
    expect([a.ip, (pickFree(ranges, new Map(), rp, () => undefined) as { ip: number }).ip]).toEqual([10, 11]);
  });
  it('skips cooling addresses and says when the first one is free again', async () => {
    const { pickFree } = await import('../../pkg/controller/nics.js');
    const claims = new Map([[10, 1], [12, 1], [13, 1], [14, 1]]);
    expect(pickFree(ranges, claims, { taken: new Set() }, (ip) => (ip === 11 ? 5000 : undefined))).toEqual({ coolingUntil: 5000 });
    expect(pickFree(ranges, claims, { taken: new Set() }, () => undefined)).toEqual({ ip: 11 });
    expect(pickFree(ranges, new Map([...claims, [11, 1]]), { taken: new Set() }, () => undefined)).toEqual({});
  });
  it('never picks an address a Node is routed by, also when it is the only one free', async () => {
    const { pickFree } = await import('../../pkg/controller/nics.js');
    const routed = (ip: number) => ip === 10 || ip === 11;
    expect(pickFree(ranges, new Map(), { taken: new Set() }, () => undefined, routed)).toEqual({ ip: 12 });
    expect(pickFree(ranges, new Map([[12, 1], [13, 1], [14, 1]]), { taken: new Set() }, () => undefined, routed)).toEqual({});
  });
});
