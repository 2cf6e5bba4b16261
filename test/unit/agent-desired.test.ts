// The agent's pure edges: objects -> desired state, events -> work keys, `ip -json` and
// `ip monitor` parsing, underlay choice, heartbeat status.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type ClusterNetwork, type ContainerNic, type HostSubnet, type MacvlanNet, type Node } from '../../pkg/api/index.js';
import { bridgeNetworkSpec, desiredMacvlan, desiredNat, macFromIp, noAddressMessage } from '../../pkg/agent/desired.js';
import { peerRoutes } from '../../pkg/agent/peer-routes.js';
import { fingerprint, HostSubnetNodes, keysForDockerEvent, keysForMonitorEvent, keysForObject, keysForUnreadableGone, type EventScope } from '../../pkg/agent/events.js';
import { nodeReport, pickUnderlay } from '../../pkg/agent/node.js';
import { shimName, vethHostName } from '../../pkg/agent/planner/names.js';
import { parseAddrs, parseLinks, parseRoutes } from '../../pkg/netlink/parse.js';
import { parseMonitorLine } from '../../pkg/netlink/monitor.js';
import { parseSave } from '../../pkg/netlink/iptables.js';
import { ipArgv, inNetns } from '../../pkg/netlink/target.js';

const meta = (name: string, extra = {}) => ({ name, generation: 1, ...extra });
const cn: ClusterNetwork = { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta('default'), spec: { cidr: '10.76.0.0/16', hostPrefix: 24, bridgePrefix: 'br', masquerade: true, dockerNetwork: 'net1', mtu: 1450 } };
const hs = (node: string, i: number, status: Record<string, unknown> = {}): HostSubnet => ({
  apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta(`default-${node}`),
  spec: { node, clusterNetwork: 'default', icc: true }, status: { subnet: `10.76.${i}.0/24`, gateway: `10.76.${i}.1`, bridge: `br0${i}`, dockerRange: `10.76.${i}.128/25`, ...status },
});
const node = (name: string, spec: Node['spec'] = {}, status: Record<string, unknown> = {}, labels?: Record<string, string>): Node =>
  ({ apiVersion: API_VERSION, kind: 'Node', metadata: meta(name, labels ? { labels } : {}), spec, status });
const nic = (name: string, network: ContainerNic['spec']['network'], status: Record<string, unknown> = {}): ContainerNic =>
  ({ apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta(name), spec: { node: 'host-1', container: 'test', ifName: 'eth1', network, defaultRoute: false }, status });
const mvn: MacvlanNet = {
  apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: meta('macvlan200'),
  spec: { subnet: '192.168.200.0/24', gateway: '192.168.200.1', mode: 'bridge', promiscuous: true, hostShim: true, blockPrefix: 28, dockerIPAM: 'blocks', nodes: [{ name: 'host-2', parent: 'enp0s5' }] },
  status: { nodes: [{ name: 'host-1', dockerRange: '192.168.200.128/28', shimAddress: '192.168.200.250' }] },
};

describe('desired state from objects', () => {
  it('builds the Docker bridge network of a HostSubnet from the controller\'s allocation', () => {
    expect(bridgeNetworkSpec(hs('host-1', 1), cn).spec).toEqual({
      name: 'net1', driver: 'bridge', subnet: '10.76.1.0/24', gateway: '10.76.1.1', ipRange: '10.76.1.128/25',
      options: {
        'com.docker.network.bridge.name': 'br01', 'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.driver.mtu': '1450',
      },
      labels: { 'io.xnet.owner': 'HostSubnet/default-host-1' },
    });
    const pending = { ...hs('host-1', 1), status: {} };
    expect(bridgeNetworkSpec(pending, cn).problem?.reason).toBe('NotAllocated');
  });

  it('declares Docker\'s 1500 on the network of a ClusterNetwork without mtu, so that a daemon default (default-network-opts) cannot make it differ', () => {
    const noMtu = { ...cn, spec: { ...cn.spec, mtu: undefined } };
    expect(bridgeNetworkSpec(hs('host-1', 1), noMtu).spec?.options['com.docker.network.driver.mtu']).toBe('1500');
  });

  it('makes the bridge of a pinned subnet of several hostPrefix blocks, and refuses one outside the ClusterNetwork or larger than hostPrefix unpinned', () => {
    const pinned = { ...hs('host-1', 1, { subnet: '10.76.64.0/22', gateway: '10.76.64.1', dockerRange: '10.76.67.0/24' }) };
    pinned.spec = { ...pinned.spec, subnet: '10.76.64.0/22' };
    expect(bridgeNetworkSpec(pinned, cn).spec?.subnet).toBe('10.76.64.0/22');
    expect(desiredNat([cn], [pinned]).local).toEqual([{ bridge: 'br01', subnet: '10.76.64.0/22', gateway: '10.76.64.1', clusterCidr: '10.76.0.0/16', hostSubnet: 'default-host-1' }]);
    const unpinned = hs('host-1', 1, { subnet: '10.76.64.0/22', gateway: '10.76.64.1', dockerRange: '10.76.67.0/24' });
    expect(bridgeNetworkSpec(unpinned, cn).problem).toEqual({ reason: 'InvalidSpec', message: expect.stringMatching(/^subnet 10\.76\.64\.0\/22 is larger than ClusterNetwork "default"'s hostPrefix \/24.*nothing is made for it$/) });
    const outside = hs('host-1', 1, { subnet: '172.16.0.0/12', gateway: '172.16.0.1', dockerRange: '172.16.0.128/25' });
    expect(bridgeNetworkSpec(outside, cn).problem?.message).toMatch(/172\.16\.0\.0\/12 is not inside ClusterNetwork "default" \(10\.76\.0\.0\/16\)/);
    expect(desiredNat([cn], [unpinned, outside]).local).toEqual([]);
  });

  it('refuses a Docker network name Docker keeps for itself (a ClusterNetwork or MacvlanNet named "default" without dockerNetwork)', () => {
    const named = { ...cn, metadata: { ...cn.metadata, name: 'default' }, spec: { ...cn.spec, dockerNetwork: undefined } };
    const r = bridgeNetworkSpec(hs('host-1', 1), named);
    expect(r.spec).toBeUndefined();
    expect(r.problem?.reason).toBe('ReservedDockerNetwork');
    const m = desiredMacvlan({ ...mvn, metadata: { ...mvn.metadata, name: 'bridge' } }, 'host-1', node('host-1', {}, { interface: 'eth0' }), []);
    expect(m.desired).toBeUndefined();
    expect(m.problem?.reason).toBe('ReservedDockerNetwork');
  });

  it('makes no macvlan segment on a subnet outside unicast space (a MacvlanNet written past xctl)', () => {
    const m = desiredMacvlan({ ...mvn, spec: { ...mvn.spec, subnet: '127.1.0.0/24' } }, 'host-1', node('host-1', {}, { interface: 'eth0' }), []);
    expect(m.desired).toBeUndefined();
    expect(m.problem).toEqual({ reason: 'InvalidSpec', message: 'MacvlanNet macvlan200: spec.subnet 127.1.0.0/24 overlaps 127.0.0.0/8, which is not unicast address space' });
  });

  it('routes peers via HostSubnet status.nodeAddress, else the Node\'s spec.address; keeps routes of peers with none', () => {
    const nodes = new Map([['host-3', node('host-3', { address: '198.18.0.13' })], ['host-4', node('host-4', {}, { address: '198.18.0.14' })]]);
    const r = peerRoutes('host-1', [hs('host-1', 1), hs('host-2', 2, { nodeAddress: '198.18.0.12' }), hs('host-3', 3), hs('host-4', 4), hs('host-5', 5)], { nodes, clusterNetworks: new Map([['default', cn]]) });
    expect(r).toEqual({
      routes: [{ dst: '10.76.2.0/24', via: '198.18.0.12' }, { dst: '10.76.3.0/24', via: '198.18.0.13' }],
      // host-4's address is only what host-4 says about itself: nobody checked it, no route
      keep: ['10.76.4.0/24', '10.76.5.0/24'],
      problems: [],
    });
  });

  it('gives a NIC without a MAC Docker\'s stable one: 02:42 + its address', () => {
    expect(macFromIp('10.76.1.84')).toBe('02:42:0a:4c:01:54');
    expect(macFromIp('192.168.200.5')).toBe('02:42:c0:a8:c8:05');
  });

  it('collects cluster CIDRs and local bridges for the NAT rules, and the HostSubnets whose Docker networks are xnet\'s', () => {
    expect(desiredNat([cn], [hs('host-1', 1)], ['unreadable-one'])).toEqual({
      clusterCidrs: ['10.76.0.0/16'], local: [{ bridge: 'br01', subnet: '10.76.1.0/24', gateway: '10.76.1.1', clusterCidr: '10.76.0.0/16', hostSubnet: 'default-host-1' }],
      served: ['default-host-1', 'unreadable-one'],
    });
  });

  it('gives the host\'s own cluster traffic no source address outside the local subnet (a gateway written past the controller)', () => {
    const odd = hs('host-1', 1, { gateway: '198.18.0.99' });
    expect(desiredNat([cn], [odd]).local).toEqual([{ bridge: 'br01', subnet: '10.76.1.0/24', clusterCidr: '10.76.0.0/16', hostSubnet: 'default-host-1' }]);
  });

  it('gives a ClusterNetwork cidr no validator passes (written straight into etcd) no NAT rule', () => {
    const wide = { ...cn, metadata: { ...cn.metadata, name: 'wide' }, spec: { ...cn.spec, cidr: '0.0.0.0/0' } };
    expect(desiredNat([cn, wide], [hs('host-1', 1)]).clusterCidrs).toEqual(['10.76.0.0/16']);
  });

  it('builds a MacvlanNet\'s node part: parent override, node block, shim with NIC /32 routes', () => {
    const r = desiredMacvlan(mvn, 'host-1', node('host-1', {}, { interface: 'eth0' }), [nic('a', { macvlanNet: 'macvlan200' }, { ip: '192.168.200.20' }), nic('b', { clusterNetwork: 'default' }, { ip: '10.76.1.5' })]);
    expect(r.desired).toEqual({
      name: 'macvlan200', parent: 'eth0', promiscuous: true,
      network: {
        name: 'macvlan200', driver: 'macvlan', subnet: '192.168.200.0/24', gateway: '192.168.200.1', ipRange: '192.168.200.128/28',
        options: { parent: 'eth0', macvlan_mode: 'bridge' }, labels: { 'io.xnet.owner': 'MacvlanNet/macvlan200' },
      },
      shim: { address: '192.168.200.250', routes: ['192.168.200.128/28', '192.168.200.20/32'] },
    });
    const h2 = desiredMacvlan({ ...mvn, spec: { ...mvn.spec, vlan: 200 } }, 'host-2', node('host-2', { interface: 'eth0' }), []);
    expect(h2.desired).toEqual({ name: 'macvlan200', parent: 'enp0s5', vlan: 200, promiscuous: true });
    expect(h2.pending?.reason).toBe('NotAllocated');
    expect(desiredMacvlan(mvn, 'host-9', node('host-9'), []).problem?.reason).toBe('ParentMissing');
  });

  it('routes through the host shim only addresses inside the MacvlanNet, whatever a status names', () => {
    const odd = { ...mvn, status: { nodes: [{ name: 'host-1', dockerRange: '0.0.0.0/0', shimAddress: '192.168.200.250' }] } };
    const r = desiredMacvlan(odd, 'host-1', node('host-1', {}, { interface: 'eth0' }), [
      nic('in', { macvlanNet: 'macvlan200' }, { ip: '192.168.200.20' }),
      nic('etcd', { macvlanNet: 'macvlan200' }, { ip: '10.0.0.5' }),
    ]);
    expect(r.desired?.shim?.routes).toEqual(['192.168.200.20/32']);
  });
});

describe('events to work keys', () => {
  const scope: EventScope = {
    node: 'host-1', nics: [nic('test-eth1', { clusterNetwork: 'default' }, { containerId: 'abcdef123456' }), nic('test-mv', { macvlanNet: 'macvlan200' })],
    hostSubnets: [hs('host-1', 1), hs('host-2', 2)], macvlanNets: [mvn], macvlanParents: new Map([['macvlan200', 'eth0']]),
  };

  it('maps object changes to the reconcilers that depend on them', () => {
    expect(keysForObject(hs('host-2', 2), scope)).toEqual(['routes']);
    expect(keysForObject(hs('host-1', 1), scope)).toEqual(['hostsubnets', 'nat', 'nic/test-eth1']);
    expect(keysForObject(scope.nics[1], scope)).toEqual(['nic/test-mv', 'mvn/macvlan200']);
    expect(keysForObject(mvn, scope)).toEqual(['mvn/macvlan200', 'nic/test-mv']);
  });

  it('wakes a routes pass when a ClusterNetwork comes, goes or has another cidr, not when only its status changes', () => {
    // which peers' subnets lie inside it (peer-routes.ts) depends on its cidr and hostPrefix
    expect(keysForObject(cn, scope)).toEqual(['routes', 'hostsubnets', 'nat', 'nic/test-eth1']);
    expect(keysForObject({ ...cn, spec: { ...cn.spec, cidr: '10.77.0.0/16' } }, scope, cn)).toContain('routes');
    expect(keysForObject({ ...cn, status: { allocated: 9, free: 247 } }, scope, cn)).not.toContain('routes');
  });

  it('wakes no routes pass for a new node until its HostSubnet has a subnet, and one when a peer\'s subnet comes or goes', () => {
    const joining = node('host-9');
    const unallocated: HostSubnet = { ...hs('host-9', 9), status: undefined };
    expect(keysForObject(joining, scope)).not.toContain('routes');
    expect(keysForObject(unallocated, scope)).toEqual([]);
    const allocated = hs('host-9', 9, { nodeAddress: '198.18.0.19' });
    expect(keysForObject(allocated, scope, unallocated)).toEqual(['routes']);
    expect(keysForObject(unallocated, scope, allocated)).toEqual(['routes']);
    expect(keysForObject({ ...unallocated, spec: { ...unallocated.spec, subnet: '10.76.9.0/24' } }, scope)).toEqual(['routes']);
    // a peer that has a HostSubnet: its Node's spec.address may be the next hop
    expect(keysForObject(node('host-2'), scope)).toContain('routes');
    expect(keysForObject(node('host-1'), scope)).toContain('routes');
  });

  it('maps the delete of a key that never decoded (no event names it) to every pass that kept something for it', () => {
    for (const kind of ['ClusterNetwork', 'HostSubnet']) expect(keysForUnreadableGone(kind, 'x', scope)).toEqual(['routes', 'hostsubnets', 'nat']);
    expect(keysForUnreadableGone('ContainerNic', 'box-eth1', scope)).toEqual(['nic/box-eth1', 'gc']);
    expect(keysForUnreadableGone('MacvlanNet', 'm', scope)).toEqual(['mvn/m', 'mvn-leftovers']);
    expect(keysForUnreadableGone('Node', 'host-2', scope)).toEqual(['routes', 'mvn/macvlan200']);
  });

  it('maps a peer\'s Node and HostSubnet events without listing every HostSubnet', () => {
    const index = new HostSubnetNodes();
    const lazy: EventScope = {
      ...scope,
      get hostSubnets(): HostSubnet[] { throw new Error('listed every HostSubnet'); },
      nodeHasHostSubnet: (n) => index.has(n),
    };
    expect(keysForObject(node('host-2'), lazy)).not.toContain('routes');
    index.handlers.onAdd(hs('host-2', 2));
    expect(keysForObject(node('host-2'), lazy)).toContain('routes');
    expect(keysForObject(hs('host-3', 3), lazy)).toEqual(['routes']);
    // a HostSubnet moved to another node, then deleted: the index follows
    index.handlers.onUpdate(hs('host-3', 2), hs('host-2', 2));
    expect(index.has('host-2')).toBe(false);
    expect(index.has('host-3')).toBe(true);
    index.handlers.onAdd(hs('host-3', 4));
    index.handlers.onDelete(hs('host-3', 2));
    expect(index.has('host-3')).toBe(true);
    index.handlers.onDelete(hs('host-3', 4));
    expect(keysForObject(node('host-3'), lazy)).not.toContain('routes');
  });

  it('ignores status changes the agents make themselves', () => {
    const a = hs('host-2', 2, { conditions: [{ type: 'Ready', status: 'True' }] });
    const b = hs('host-2', 2, { conditions: [{ type: 'Ready', status: 'False' }] });
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(fingerprint(a)).not.toBe(fingerprint(hs('host-2', 2, { nodeAddress: '198.18.0.99' })));
    const n1 = node('host-2', {}, { address: '198.18.0.12', lastHeartbeatTime: '1' });
    expect(fingerprint(n1)).toBe(fingerprint(node('host-2', {}, { address: '198.18.0.12', lastHeartbeatTime: '2' })));
  });

  it('maps Docker events: a started container wakes its NICs, a new network wakes NAT, a container leaving a network wakes the host subnets (a stale network waiting for it)', () => {
    expect(keysForDockerEvent({ type: 'container', action: 'start', id: 'abcdef123456', name: 'test', timeNano: 0 }, scope)).toEqual(['nic/test-eth1', 'nic/test-mv']);
    expect(keysForDockerEvent({ type: 'container', action: 'exec_start', id: 'x', name: 'test', timeNano: 0 }, scope)).toEqual([]);
    expect(keysForDockerEvent({ type: 'network', action: 'create', id: 'n', timeNano: 0 }, scope)).toContain('nat');
    expect(keysForDockerEvent({ type: 'network', action: 'disconnect', id: 'n', timeNano: 0 }, scope)).toContain('hostsubnets');
    // a container connected (docker run --ip): the HostSubnet's report of the addresses Docker's containers hold
    expect(keysForDockerEvent({ type: 'network', action: 'connect', id: 'n', container: 'c', timeNano: 0 }, scope)).toContain('hostsubnets');
    expect(keysForDockerEvent({ type: 'network', action: 'connect', id: 'n', container: 'c', timeNano: 0 }, { ...scope, hostSubnets: [] })).not.toContain('hostsubnets');
    // the interface Docker took out may be the name a NIC of that container waits for
    expect(keysForDockerEvent({ type: 'network', action: 'disconnect', id: 'n', container: 'abcdef123456', timeNano: 0 }, scope)).toContain('nic/test-eth1');
    // a stopped container removed: the network it kept from being made again (NetworkInUse) may go
    expect(keysForDockerEvent({ type: 'container', action: 'destroy', id: 'f00d', name: 'gone', timeNano: 0 }, scope)).toContain('hostsubnets');
    expect(keysForDockerEvent({ type: 'container', action: 'die', id: 'f00d', name: 'gone', timeNano: 0 }, scope)).not.toContain('hostsubnets');
  });

  it('maps kernel notifications: routes, a NIC\'s host end, a shim, a bridge', () => {
    const ev = (line: string) => keysForMonitorEvent(parseMonitorLine(line)!, scope);
    expect(ev('[ROUTE]Deleted 10.76.2.0/24 via 198.18.0.12 dev eth0 proto 76')).toEqual(['routes', 'mvn/macvlan200']);
    expect(ev(`[LINK]Deleted 9: ${vethHostName('test-eth1')}@if8: <BROADCAST,MULTICAST> mtu 1500`)).toEqual(['nic/test-eth1']);
    expect(ev(`[ADDR]Deleted 7: ${shimName('macvlan200')}    inet 192.168.200.250/32 scope global`)).toEqual(['mvn/macvlan200']);
    expect(ev('[LINK]5: br01: <BROADCAST,MULTICAST,UP> mtu 1500')).toEqual(['hostsubnets', 'nic/test-eth1']);
    // A bridge state change (a port came) wakes only NICs not in place yet; its deletion wakes all.
    const ready = { ...scope, nics: scope.nics.map((n) => ({ ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: 'True' as const }] } })) };
    expect(keysForMonitorEvent(parseMonitorLine('[LINK]5: br01: <BROADCAST,MULTICAST,UP> mtu 1500')!, ready)).toEqual(['hostsubnets']);
    expect(keysForMonitorEvent(parseMonitorLine('[LINK]Deleted 5: br01: <BROADCAST,MULTICAST> mtu 1500')!, ready)).toEqual(['hostsubnets', 'nic/test-eth1']);
    expect(ev('[LINK]12: veth1234@if11: <BROADCAST> mtu 1500')).toEqual([]);
  });

  it('maps a NIC\'s host end renamed by hand (its event names only the new name) to the NIC, by the ifindex it had', () => {
    const withEnds = { ...scope, nicOfHostIfindex: (i: number) => (i === 9 ? 'test-eth1' : undefined) };
    expect(keysForMonitorEvent(parseMonitorLine('[LINK]9: renamed0@if8: <BROADCAST,MULTICAST,UP> mtu 1500')!, withEnds)).toEqual(['nic/test-eth1']);
    expect(keysForMonitorEvent(parseMonitorLine('[LINK]12: veth1234@if11: <BROADCAST> mtu 1500')!, withEnds)).toEqual([]);
    // an address line names an ifindex too, but only a link's rename loses the name
    expect(keysForMonitorEvent(parseMonitorLine('[ADDR]9: renamed0    inet 10.0.0.1/24 scope global')!, withEnds)).toEqual([]);
  });

  it('maps the host\'s IPv4 forwarding turned off or on to the nat pass, and no other IP setting', () => {
    const ev = (line: string) => keysForMonitorEvent(parseMonitorLine(line)!, scope);
    // lines as `ip monitor label netconf` prints them for sysctl -w net.ipv4.ip_forward=0
    expect(parseMonitorLine('[NETCONF]inet all forwarding off ')).toEqual({ object: 'netconf', deleted: false, text: 'inet all forwarding off' });
    expect(ev('[NETCONF]inet all forwarding off ')).toEqual(['nat']);
    expect(ev('[NETCONF]inet all forwarding on')).toEqual(['nat']);
    expect(ev('[NETCONF]inet all forwarding off rp_filter off mc_forwarding off proxy_neigh off')).toEqual(['nat']);
    // one interface's settings (every new veth prints one), IPv6, other settings of all: nothing
    expect(ev('[NETCONF]inet default forwarding off')).toEqual([]);
    expect(ev('[NETCONF]inet br01 forwarding off rp_filter off mc_forwarding off proxy_neigh off ignore_routes_with_linkdown off')).toEqual([]);
    expect(ev('[NETCONF]inet6 all forwarding off')).toEqual([]);
    expect(ev('[NETCONF]inet all rp_filter strict')).toEqual([]);
    expect(ev('[NETCONF]inet all mc_forwarding off')).toEqual([]);
  });
});

describe('netlink parsing and argv', () => {
  it('parses ip -json links, addresses and routes', () => {
    const links = parseLinks([{ ifindex: 5, ifname: 'xs1', flags: ['BROADCAST', 'UP', 'PROMISC'], mtu: 1500, address: 'AA:BB:CC:00:11:22', link: 'eth0', linkinfo: { info_kind: 'macvlan', info_data: { mode: 'bridge' } } }]);
    expect(links).toEqual([{ ifindex: 5, name: 'xs1', mac: 'aa:bb:cc:00:11:22', mtu: 1500, up: true, promisc: true, kind: 'macvlan', parent: 'eth0', macvlanMode: 'bridge' }]);
    expect(parseAddrs([{ ifname: 'br01', addr_info: [{ family: 'inet', local: '10.76.1.1', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] }])).toEqual([{ dev: 'br01', cidr: '10.76.1.1/24' }]);
    expect(parseRoutes([{ dst: '10.9.0.0/24', gateway: '10.2.0.2', dev: 'v1', protocol: '76', flags: [] }])).toEqual([{ dst: '10.9.0.0/24', via: '10.2.0.2', dev: 'v1', proto: '76' }]);
  });

  it('parses one table of iptables-save', () => {
    const d = parseSave('*filter\n:FORWARD DROP [0:0]\n-A FORWARD -j DOCKER-USER\nCOMMIT\n*nat\n:POSTROUTING ACCEPT [0:0]\n:XNET-POSTROUTING - [0:0]\n-A POSTROUTING -j XNET-POSTROUTING\nCOMMIT\n', 'nat');
    expect(d).toEqual({ chains: ['POSTROUTING', 'XNET-POSTROUTING'], rules: { POSTROUTING: ['-j XNET-POSTROUTING'], 'XNET-POSTROUTING': [] } });
  });

  it('builds argument arrays for each kind of namespace, never a shell line', () => {
    expect(ipArgv({ kind: 'netns', name: 'h1' }, ['-json', 'link'])).toEqual(['ip', ['-n', 'h1', '-json', 'link']]);
    expect(ipArgv({ kind: 'pid', pid: 42 }, ['link'])).toEqual(['nsenter', ['-t', '42', '-n', 'ip', 'link']]);
    expect(inNetns({ kind: 'netns', name: 'h1' }, 'iptables-save', ['-t', 'nat'])).toEqual(['nsenter', ['--net=/var/run/netns/h1', 'iptables-save', '-t', 'nat']]);
    // a pinned namespace is entered through its file, whatever its PID has become
    expect(ipArgv({ kind: 'pinned', path: '/proc/7/fd/21', pid: 42 }, ['-batch', '-'])).toEqual(['nsenter', ['--net=/proc/7/fd/21', 'ip', '-batch', '-']]);
    expect(inNetns({ kind: 'pinned', path: '/proc/7/fd/21' }, 'sysctl', ['-q', '-w', 'a=1'])).toEqual(['nsenter', ['--net=/proc/7/fd/21', 'sysctl', '-q', '-w', 'a=1']]);
  });
});

describe('node registration pieces', () => {
  it('picks the default route\'s interface, else the first non-lo interface with IPv4', () => {
    const addrs = [{ dev: 'lo', cidr: '127.0.0.1/8' }, { dev: 'eth1', cidr: '10.0.0.5/24' }, { dev: 'eth0', cidr: '198.18.0.11/24' }];
    const local = ['10.0.0.5', '198.18.0.11'];
    expect(pickUnderlay('eth0', addrs)).toEqual({ interface: 'eth0', address: '198.18.0.11', local });
    expect(pickUnderlay(undefined, addrs)).toEqual({ interface: 'eth1', address: '10.0.0.5', local });
    expect(pickUnderlay(undefined, [{ dev: 'lo', cidr: '127.0.0.1/8' }])).toEqual({ local: [] });
  });

  it('reports pinned address/interface over detected ones, capabilities and Ready', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const s = nodeReport(node('host-1', { address: '198.18.0.99' }), { underlay: { address: '198.18.0.11', interface: 'eth0' }, capabilities: { macvlan: true, vlan: false }, agentVersion: '0.1.0', routeProblems: [], now });
    expect(s).toMatchObject({ address: '198.18.0.99', interface: 'eth0', capabilities: { macvlan: true, vlan: false } });
    expect((s.conditions as Array<{ type: string; status: string }>).map((c) => [c.type, c.status])).toEqual([['Ready', 'True'], ['RoutesReady', 'True']]);
  });

  it('says whether a pinned spec.address is an address of this host (AddressOnHost), only while one is pinned', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const underlay = { address: '198.18.0.12', interface: 'eth0', local: ['198.18.0.12', '10.0.0.7'] };
    const base = { underlay, capabilities: {}, agentVersion: '0.1.0', routeProblems: [], now };
    const cond = (s: Record<string, unknown>) => (s.conditions as Array<{ type: string; status: string; reason: string; message: string }>).find((c) => c.type === 'AddressOnHost');
    const typo = nodeReport(node('host-2', { address: '198.18.0.99' }), base);
    expect(cond(typo)).toMatchObject({ status: 'False', reason: 'NotOnHost', message: 'spec.address 198.18.0.99 is not an address of this host (it has 198.18.0.12, 10.0.0.7): peers route this node\'s subnets to it; fix spec.address, or remove it to use the detected 198.18.0.12' });
    // another interface of the host is fine: peers reach it on its own link
    expect(cond(nodeReport(node('host-2', { address: '10.0.0.7' }), { ...base, previous: typo.conditions as never }))).toMatchObject({ status: 'True', reason: 'OnHost' });
    // unpinned: the condition goes (the detected address is the host's by construction)
    expect(cond(nodeReport(node('host-2', {}), { ...base, previous: typo.conditions as never }))).toBeUndefined();
  });

  it('reports the same state with the same report later (nothing to rewrite on a timer)', () => {
    const input = { underlay: { address: '198.18.0.11', interface: 'eth0' }, capabilities: { macvlan: true, vlan: false }, agentVersion: '0.1.0', routeProblems: [] };
    const first = nodeReport(undefined, { ...input, now: new Date('2026-01-01T00:00:00Z') });
    const later = nodeReport(undefined, { ...input, previous: first.conditions as never, now: new Date('2026-01-01T00:05:00Z') });
    expect(JSON.stringify(later)).toBe(JSON.stringify(first));
    expect(later).not.toHaveProperty('lastHeartbeatTime');
    const broken = nodeReport(undefined, { ...input, previous: first.conditions as never, routeProblems: [{ reason: 'RoutesFailed', message: '10.76.9.0/24 via 203.0.113.9' }], now: new Date('2026-01-01T00:06:00Z') });
    expect(JSON.stringify(broken)).not.toBe(JSON.stringify(first));
  });
});

describe('noAddressMessage (a NIC\'s node says why it has no address)', () => {
  const nicWith = (status?: unknown) => ({ apiVersion: API_VERSION, kind: 'ContainerNic', metadata: { name: 'web-mv' }, spec: { node: 'host-2', container: 'web', ifName: 'eth1', network: { macvlanNet: 'lan' } }, status }) as ContainerNic;
  it('gives the controller\'s reason when it refuses one, else says it waits for the controller', () => {
    const refused = { conditions: [{ type: 'Allocated', status: 'False', reason: 'InvalidSpec', message: 'MacvlanNet "lan" is being deleted' }] };
    expect(noAddressMessage(nicWith(refused))).toBe('no address: the controller gives none (MacvlanNet "lan" is being deleted)');
    expect(noAddressMessage(nicWith())).toBe('waiting for the controller to allocate an address');
    expect(noAddressMessage(nicWith({ conditions: [{ type: 'Allocated', status: 'True', message: 'x' }] }))).toBe('waiting for the controller to allocate an address');
    // untrusted shapes: no throw, nothing made up; a long message is cut
    for (const odd of [{ conditions: 'nope' }, { conditions: [null, 7] }, { conditions: [{ type: 'Allocated', status: 'False', message: 5 }] }]) {
      expect(noAddressMessage(nicWith(odd))).toBe('waiting for the controller to allocate an address');
    }
    expect(noAddressMessage(nicWith({ conditions: [{ type: 'Allocated', status: 'False', message: 'x'.repeat(1000) }] })).length).toBeLessThan(400);
  });
});
