// The pure planner: desired + observed in, the exact ordered operations out.
import { describe, expect, it } from 'vitest';
import type { HostState } from '../../pkg/netlink/ip.js';
import type { ContainerState } from '../../pkg/agent/planner/nic.js';
import type { Link, Route } from '../../pkg/netlink/types.js';
import type { DockerNetwork, DockerNetworkSpec } from '../../pkg/docker/types.js';
import {
  planRoutes, planNat, planNic, planNicRemoval, planNicGarbage, nicDifferences, planMacvlan, planMacvlanRemoval, planDockerNetworks,
  vethHostName, tempName, shimName, ipLine, steps, NIC_ARP_SYSCTLS, NAT_CHAIN, FWD_CHAIN, natRules, forwardRules, type DesiredNic, type DesiredMacvlan,
} from '../../pkg/agent/planner/index.js';

const link = (name: string, ifindex: number, extra: Partial<Link> = {}): Link => ({ name, ifindex, mac: '02:00:00:00:00:' + ifindex.toString(16).padStart(2, '0'), mtu: 1500, up: true, promisc: false, ...extra });
const route = (dst: string, extra: Partial<Route> = {}): Route => ({ dst, proto: 'kernel', ...extra });
const host = (links: Link[], routes: Route[] = [], addrs: HostState['addrs'] = []): HostState => ({ links, routes, addrs });
const xnet = (dst: string, via: string): Route => ({ dst, via, dev: 'eth0', proto: '76' });
/** a container's namespace as the agent pins it: a handle's path (what ops enter) and the PID (messages only) */
const NS = { path: '/proc/1/fd/42', pid: 4242 };
const NS7 = { path: '/proc/1/fd/7', pid: 7 };

describe('planRoutes', () => {
  const observed = [route('198.18.0.0/24', { dev: 'eth0' }), route('default', { via: '198.18.0.1', dev: 'eth0', proto: 'boot' })];
  const peers = (r: Route) => !!r.via;

  it('adds a route per peer subnet', () => {
    const p = planRoutes([{ dst: '10.76.2.0/24', via: '198.18.0.12' }, { dst: '10.76.3.0/24', via: '198.18.0.13' }], observed, peers);
    expect(p.ops).toEqual([
      { op: 'route.replace', dst: '10.76.2.0/24', via: '198.18.0.12' },
      { op: 'route.replace', dst: '10.76.3.0/24', via: '198.18.0.13' },
    ]);
    expect(ipLine(p.ops[0] as never)).toEqual(['route', 'replace', '10.76.2.0/24', 'via', '198.18.0.12', 'proto', '76']);
  });

  it('adopts existing matching routes, even ones it did not make', () => {
    const p = planRoutes([{ dst: '10.76.2.0/24', via: '198.18.0.12' }, { dst: '10.76.3.0/24', via: '198.18.0.13' }],
      [...observed, xnet('10.76.2.0/24', '198.18.0.12'), route('10.76.3.0/24', { via: '198.18.0.13', proto: 'static' })], peers);
    expect(p).toEqual({ ops: [], problems: [] });
  });

  it('moves its own route to a peer\'s new address and deletes routes of gone peers', () => {
    const p = planRoutes([{ dst: '10.76.2.0/24', via: '198.18.0.22' }], [...observed, xnet('10.76.2.0/24', '198.18.0.12'), xnet('10.76.9.0/24', '198.18.0.19')], peers);
    expect(p.ops).toEqual([
      { op: 'route.replace', dst: '10.76.2.0/24', via: '198.18.0.22' },
      { op: 'route.del', dst: '10.76.9.0/24', via: '198.18.0.19', dev: 'eth0', proto: '76' },
    ]);
  });

  it('never deletes or overrides a route it did not make', () => {
    const p = planRoutes([{ dst: '10.76.2.0/24', via: '198.18.0.12' }], [...observed, route('10.76.2.0/24', { via: '198.18.0.99', proto: 'static' }), route('10.99.0.0/16', { via: '198.18.0.5', proto: 'static' })], peers);
    expect(p.ops).toEqual([]);
    expect(p.problems.map((x) => x.reason)).toEqual(['RouteConflict']);
  });

  it('says when a more specific route it did not make takes part of a peer subnet elsewhere, and leaves it', () => {
    const want = [{ dst: '10.76.2.0/24', via: '198.18.0.12' }, { dst: '10.76.3.0/24', via: '198.18.0.13' }];
    const have = [...observed, xnet('10.76.2.0/24', '198.18.0.12'), xnet('10.76.3.0/24', '198.18.0.13')];
    // an admin's /25 through the router: half of host-2's containers go there (a new-user trial)
    const p = planRoutes(want, [...have, route('10.76.2.0/25', { via: '198.18.0.1', proto: 'static' })], peers);
    expect(p.ops).toEqual([]);
    expect(p.problems).toEqual([{ reason: 'RouteConflict', message: 'a route that xnet did not make takes part of 10.76.2.0/24 elsewhere (10.76.2.0/25 via 198.18.0.1 proto static); remove it so xnet can route all of 10.76.2.0/24 via 198.18.0.12' }]);
    // a host route into it, the same way as xnet's (harmless), a route around it, the default: nothing to say
    const harmless = [route('10.76.3.7', { via: '198.18.0.13', proto: 'static' }), route('10.76.0.0/16', { via: '198.18.0.1', proto: 'static' }), route('10.76.4.0/25', { via: '198.18.0.1', proto: 'static' })];
    expect(planRoutes(want, [...have, ...harmless], peers)).toEqual({ ops: [], problems: [] });
    // a /32 to a single container elsewhere is one too
    expect(planRoutes(want, [...have, route('10.76.3.9', { dev: 'eth1' })], peers).problems.map((x) => x.message)).toEqual(['a route that xnet did not make takes part of 10.76.3.0/24 elsewhere (10.76.3.9 dev eth1 proto kernel); remove it so xnet can route all of 10.76.3.0/24 via 198.18.0.13']);
  });

  it('keeps the route of a peer whose address is unknown for now', () => {
    const p = planRoutes([], [xnet('10.76.2.0/24', '198.18.0.12'), xnet('10.76.3.0/24', '198.18.0.13')], peers, ['10.76.2.0/24']);
    expect(p.ops).toEqual([{ op: 'route.del', dst: '10.76.3.0/24', via: '198.18.0.13', dev: 'eth0', proto: '76' }]);
  });

  it('deletes only the xnet routes the caller owns', () => {
    const p = planRoutes([], [xnet('10.76.2.0/24', '198.18.0.12'), { dst: '192.168.200.5', dev: 'xs00000000', proto: '76' }], peers);
    expect(p.ops).toEqual([{ op: 'route.del', dst: '10.76.2.0/24', via: '198.18.0.12', dev: 'eth0', proto: '76' }]);
  });
});

describe('planDockerNetworks', () => {
  const spec: DockerNetworkSpec = {
    name: 'net1', driver: 'bridge', subnet: '10.76.1.0/24', gateway: '10.76.1.1', ipRange: '10.76.1.128/25',
    options: { 'com.docker.network.bridge.name': 'br01', 'com.docker.network.bridge.enable_icc': 'true' },
    labels: { 'io.xnet.owner': 'HostSubnet/default-host-1' },
  };
  const have = (o: Partial<DockerNetwork> = {}): DockerNetwork => ({ ...spec, id: 'abc', containers: 0, options: { ...spec.options, 'com.docker.network.driver.mtu': '1500' }, ...o });

  it('creates a missing network', () => {
    expect(planDockerNetworks([spec], [], 'HostSubnet').ops).toEqual([{ op: 'docker.network.create', spec }]);
  });
  it('adopts a matching network (extra options Docker adds are fine)', () => {
    expect(planDockerNetworks([spec], [have()], 'HostSubnet')).toEqual({ ops: [], problems: [] });
  });
  it('adopts a hand-made network (seed 000\'s net1) that leaves Docker\'s defaults implicit', () => {
    const want = { ...spec, options: { ...spec.options, 'com.docker.network.bridge.enable_ip_masquerade': 'true' } };
    expect(planDockerNetworks([want], [have({ labels: {} })], 'HostSubnet')).toEqual({ ops: [], problems: [] });
    const noMasq = { ...spec, options: { ...spec.options, 'com.docker.network.bridge.enable_ip_masquerade': 'false' } };
    expect(planDockerNetworks([noMasq], [have({ labels: {} })], 'HostSubnet').problems[0].reason).toBe('NetworkConflict');
  });

  it('recreates its own drifted network when nothing is attached, refuses when containers are', () => {
    expect(planDockerNetworks([spec], [have({ ipRange: '10.76.1.0/25' })], 'HostSubnet').ops).toEqual([
      { op: 'docker.network.remove', name: 'net1', id: 'abc' }, { op: 'docker.network.create', spec },
    ]);
    const busy = planDockerNetworks([spec], [have({ ipRange: '10.76.1.0/25', containers: 2 })], 'HostSubnet');
    expect(busy.ops).toEqual([]);
    expect(busy.problems[0].reason).toBe('NetworkInUse');
    expect(busy.problems[0].message).toMatch(/2 container\(s\) are attached \(a stopped container counts too.*\); disconnect them \(docker network disconnect\)$/);
  });
  it('counts the stopped containers that reference its own drifted network: made anew, it would strand them', () => {
    const p = planDockerNetworks([spec], [have({ ipRange: '10.76.1.0/25', stopped: ['s3'] })], 'HostSubnet');
    expect(p.ops).toEqual([]);
    expect(p.problems).toEqual([{ reason: 'NetworkInUse', message: expect.stringContaining('but 1 container(s) are attached, 1 of them stopped (s3: a stopped container counts too') }]);
    const both = planDockerNetworks([spec], [have({ ipRange: '10.76.1.0/25', containers: 1, stopped: ['s3', 's4'] })], 'HostSubnet');
    expect(both.problems[0].message).toContain('3 container(s) are attached, 2 of them stopped (s3, s4');
  });
  it('takes an old driver.mtu (a ClusterNetwork\'s mtu removed: 1500 declared) for drift on its own network; a network without the option is at Docker\'s 1500', () => {
    const want = { ...spec, options: { ...spec.options, 'com.docker.network.driver.mtu': '1500' } };
    const mtu = (v?: string) => {
      const options: Record<string, string> = { ...spec.options };
      if (v) options['com.docker.network.driver.mtu'] = v;
      return have({ options });
    };
    expect(planDockerNetworks([want], [mtu('1400')], 'HostSubnet').ops).toEqual([
      { op: 'docker.network.remove', name: 'net1', id: 'abc' }, { op: 'docker.network.create', spec: want },
    ]);
    const busy = planDockerNetworks([want], [{ ...mtu('1400'), containers: 1 }], 'HostSubnet');
    expect(busy.ops).toEqual([]);
    expect(busy.problems[0]).toMatchObject({ reason: 'NetworkInUse', message: expect.stringContaining('option com.docker.network.driver.mtu is 1400, want 1500') });
    expect(planDockerNetworks([want], [mtu('1500')], 'HostSubnet')).toEqual({ ops: [], problems: [] });
    expect(planDockerNetworks([want], [mtu()], 'HostSubnet')).toEqual({ ops: [], problems: [] });
    // a network xnet did not make is reported, never made again
    const theirs = planDockerNetworks([want], [{ ...mtu('1400'), labels: {} }], 'HostSubnet');
    expect(theirs.ops).toEqual([]);
    expect(theirs.problems[0].reason).toBe('NetworkConflict');
  });
  it('does not touch a conflicting network xnet did not make', () => {
    const p = planDockerNetworks([spec], [have({ labels: {}, subnet: '10.9.0.0/24' })], 'HostSubnet');
    expect(p.ops).toEqual([]);
    expect(p.problems[0].reason).toBe('NetworkConflict');
  });
  it('removes its own networks that are no longer wanted, and only those', () => {
    const p = planDockerNetworks([], [have(), have({ name: 'mine', labels: {} }), have({ name: 'mv', labels: { 'io.xnet.owner': 'MacvlanNet/x' } })], 'HostSubnet');
    expect(p.ops).toEqual([{ op: 'docker.network.remove', name: 'net1', id: 'abc' }]);
  });
});

describe('planNat', () => {
  const d = { clusterCidrs: ['10.76.0.0/16'], local: [{ bridge: 'br01', subnet: '10.76.1.0/24' }] };
  const empty = { chains: ['PREROUTING', 'POSTROUTING'], rules: {} };
  const dockerNat = { chains: ['POSTROUTING', 'DOCKER'], rules: { POSTROUTING: ['-s 10.76.1.0/24 ! -o br01 -j MASQUERADE'] } };
  const dockerFilter = { chains: ['FORWARD', 'DOCKER', 'DOCKER-USER'], rules: { FORWARD: ['-j DOCKER-USER', '-o br01 -j DOCKER', '-i br01 ! -o br01 -j ACCEPT'], 'DOCKER-USER': ['-j RETURN'] } };

  it('keeps cluster->cluster traffic un-NATed ahead of Docker\'s MASQUERADE, and lets it through FORWARD', () => {
    const p = planNat(d, { nat: dockerNat, filter: dockerFilter, ipForward: '0', dockerNetworks: [] });
    expect(p.ops).toEqual([
      { op: 'sysctl.set', values: { 'net.ipv4.ip_forward': '1' } },
      { op: 'iptables.restore', table: 'nat', lines: [`:${NAT_CHAIN} - [0:0]`, `-A ${NAT_CHAIN} -s 10.76.1.0/24 -d 10.76.0.0/16 -j ACCEPT`, `-I POSTROUTING 1 -j ${NAT_CHAIN}`] },
      { op: 'iptables.restore', table: 'filter', lines: [`:${FWD_CHAIN} - [0:0]`, `-A ${FWD_CHAIN} -i br01 -o br01 -j RETURN`, `-A ${FWD_CHAIN} -s 10.76.1.0/24 -d 10.76.0.0/16 -i br01 -j ACCEPT`, `-A ${FWD_CHAIN} -s 10.76.0.0/16 -d 10.76.1.0/24 -o br01 -j ACCEPT`, `-I FORWARD 2 -j ${FWD_CHAIN}`] },
    ]);
    expect(planNat(d, { nat: empty, filter: empty, ipForward: '1', dockerNetworks: [] }).ops).toHaveLength(2);
  });

  it('adopts rules already in place (Docker\'s own jump above ours is fine)', () => {
    const nat = { chains: ['POSTROUTING', NAT_CHAIN], rules: { POSTROUTING: [`-j ${NAT_CHAIN}`, '-s 10.76.1.0/24 ! -o br01 -j MASQUERADE'], [NAT_CHAIN]: ['-s 10.76.1.0/24 -d 10.76.0.0/16 -j ACCEPT'] } };
    const filter = { chains: ['FORWARD', FWD_CHAIN], rules: { FORWARD: ['-j DOCKER-USER', `-j ${FWD_CHAIN}`, '-o br01 -j DOCKER'], [FWD_CHAIN]: ['-i br01 -o br01 -j RETURN', '-s 10.76.1.0/24 -d 10.76.0.0/16 -i br01 -j ACCEPT', '-s 10.76.0.0/16 -d 10.76.1.0/24 -o br01 -j ACCEPT'] } };
    expect(planNat(d, { nat, filter, ipForward: '1', dockerNetworks: [] })).toEqual({ ops: [], problems: [] });
  });

  it('names a local HostSubnet in every rule: a user\'s Docker network inside a ClusterNetwork CIDR keeps Docker\'s NAT and filtering', () => {
    const two = { clusterCidrs: ['10.76.0.0/16', '10.81.0.0/16'], local: [{ bridge: 'br01', subnet: '10.76.1.0/24' }] };
    const user = '10.76.250.0/24'; // docker network create --subnet 10.76.250.0/24 mine
    expect(natRules(two)).toEqual(['-s 10.76.1.0/24 -d 10.76.0.0/16 -j ACCEPT', '-s 10.76.1.0/24 -d 10.81.0.0/16 -j ACCEPT']);
    expect(forwardRules(two)).toEqual([
      '-i br01 -o br01 -j RETURN',
      '-s 10.76.1.0/24 -d 10.76.0.0/16 -i br01 -j ACCEPT', '-s 10.76.0.0/16 -d 10.76.1.0/24 -o br01 -j ACCEPT',
      '-s 10.76.1.0/24 -d 10.81.0.0/16 -i br01 -j ACCEPT', '-s 10.81.0.0/16 -d 10.76.1.0/24 -o br01 -j ACCEPT',
    ]);
    for (const r of [...natRules(two), ...forwardRules(two)]) expect(r).not.toContain(user);
    // another Docker network inside a cluster CIDR goes back to Docker's own isolation first, by
    // bridge and subnet; docker0 (outside every CIDR) and xnet's own bridge get no such rule
    const docker = [{ bridge: 'br-0123456789ab', subnet: user }, { bridge: 'docker0', subnet: '172.17.0.0/16' }, { bridge: 'br01', subnet: '10.76.1.0/24' }];
    expect(forwardRules(two, docker).slice(0, 3)).toEqual([
      `-s ${user} -i br-0123456789ab -j RETURN`, `-d ${user} -o br-0123456789ab -j RETURN`, '-i br01 -o br01 -j RETURN',
    ]);
    // the host's underlay as a Docker bridge (dockerd --bridge=br0), also one around a cluster
    // CIDR (10.0.0.0/8): cluster traffic through it still matches the ACCEPTs
    for (const subnet of ['198.18.0.0/24', '10.0.0.0/8']) {
      expect(forwardRules(two, [{ bridge: 'br0', subnet }]).filter((r) => / br0 /.test(r)), subnet).toEqual([]);
    }
    // a subnet written with host bits is still returned, by its network address
    expect(forwardRules(two, [{ bridge: 'br-x', subnet: '10.76.250.7/24' }])[0]).toBe('-s 10.76.250.0/24 -i br-x -j RETURN');
    // Docker not answered yet: the returns already in the chain stay as they are
    const current = forwardRules(two, docker);
    expect(forwardRules(two, undefined, current)).toEqual(current);
    expect(forwardRules(two, undefined, [])).toEqual(forwardRules(two, []));
    // a node without HostSubnets forwards no cluster traffic and keeps every source's NAT
    expect(natRules({ ...two, local: [] })).toEqual([]);
    expect(forwardRules({ ...two, local: [] })).toEqual([]);
  });

  it('puts its FORWARD jump below the admin\'s DOCKER-USER and above Docker\'s own chains', () => {
    const chains = (forward: string[]) => ({ chains: ['FORWARD', FWD_CHAIN], rules: { FORWARD: forward, [FWD_CHAIN]: forwardRules(d) } });
    const natOk = { chains: ['POSTROUTING', NAT_CHAIN], rules: { POSTROUTING: [`-j ${NAT_CHAIN}`], [NAT_CHAIN]: natRules(d) } };
    const plan = (forward: string[]) => planNat(d, { nat: natOk, filter: chains(forward), ipForward: '1', dockerNetworks: [] }).ops;
    const docker28 = ['-j DOCKER-USER', '-j DOCKER-FORWARD'];
    expect(plan(['-j DOCKER-USER', `-j ${FWD_CHAIN}`, '-j DOCKER-FORWARD'])).toEqual([]);
    expect(plan([`-j ${FWD_CHAIN}`, ...docker28])).toEqual([{ op: 'iptables.restore', table: 'filter', lines: [`-D FORWARD -j ${FWD_CHAIN}`, `-I FORWARD 2 -j ${FWD_CHAIN}`] }]);
    expect(plan([...docker28, `-j ${FWD_CHAIN}`])).toEqual([{ op: 'iptables.restore', table: 'filter', lines: [`-D FORWARD -j ${FWD_CHAIN}`, `-I FORWARD 2 -j ${FWD_CHAIN}`] }]);
    expect(plan(['-j DOCKER-USER', '-j DOCKER-ISOLATION-STAGE-1'])).toEqual([{ op: 'iptables.restore', table: 'filter', lines: [`-I FORWARD 2 -j ${FWD_CHAIN}`] }]);
    // no DOCKER-USER (or one below a drop): at the top
    expect(plan(['-j DROP', '-j DOCKER-USER'])).toEqual([{ op: 'iptables.restore', table: 'filter', lines: [`-I FORWARD 1 -j ${FWD_CHAIN}`] }]);
    expect(plan([`-j ${FWD_CHAIN}`, '-j DROP', '-j DOCKER-USER'])).toEqual([]);
    // two copies above the admin's chain (two agents, a script): both go, one comes back below it
    expect(plan([`-j ${FWD_CHAIN}`, `-j ${FWD_CHAIN}`, ...docker28])).toEqual([{ op: 'iptables.restore', table: 'filter', lines: [
      `-D FORWARD -j ${FWD_CHAIN}`, `-D FORWARD -j ${FWD_CHAIN}`, `-I FORWARD 2 -j ${FWD_CHAIN}`] }]);  });

  it('sends the host\'s own traffic into a ClusterNetwork from its gateway on a local HostSubnet of it, and nothing else', () => {
    const local = [
      { bridge: 'br02', subnet: '10.76.2.0/24', gateway: '10.76.2.1', clusterCidr: '10.76.0.0/16' },
      { bridge: 'br01', subnet: '10.76.1.0/24', gateway: '10.76.1.1', clusterCidr: '10.76.0.0/16' },
    ];
    // 10.81.0.0/16 has no HostSubnet on this host: its traffic stays as it is
    const rules = natRules({ clusterCidrs: ['10.81.0.0/16', '10.76.0.0/16'], local });
    expect(rules.filter((r) => r.includes('SNAT'))).toEqual(['! -s 10.76.0.0/16 -d 10.76.0.0/16 -m addrtype --src-type LOCAL -j SNAT --to-source 10.76.1.1']);
    // after the ACCEPTs, which keep the containers' own addresses
    expect(rules.findIndex((r) => r.includes('SNAT'))).toBe(rules.length - 1);
    // no gateway known (or none inside the subnet): no rule
    expect(natRules({ clusterCidrs: ['10.76.0.0/16'], local: [{ bridge: 'br01', subnet: '10.76.1.0/24', clusterCidr: '10.76.0.0/16' }] })).toEqual(['-s 10.76.1.0/24 -d 10.76.0.0/16 -j ACCEPT']);
  });

  it('moves its jump back above a MASQUERADE Docker inserted later', () => {
    const nat = { chains: ['POSTROUTING', NAT_CHAIN], rules: { POSTROUTING: ['-s 10.76.1.0/24 ! -o br01 -j MASQUERADE', `-j ${NAT_CHAIN}`], [NAT_CHAIN]: ['-s 10.76.1.0/24 -d 10.76.0.0/16 -j ACCEPT'] } };
    const filter = { chains: ['FORWARD', FWD_CHAIN], rules: { FORWARD: [`-j ${FWD_CHAIN}`], [FWD_CHAIN]: ['-i br01 -o br01 -j RETURN', '-s 10.76.1.0/24 -d 10.76.0.0/16 -i br01 -j ACCEPT', '-s 10.76.0.0/16 -d 10.76.1.0/24 -o br01 -j ACCEPT'] } };
    expect(planNat(d, { nat, filter, ipForward: '1', dockerNetworks: [] }).ops).toEqual([
      { op: 'iptables.restore', table: 'nat', lines: [`-D POSTROUTING -j ${NAT_CHAIN}`, `-I POSTROUTING 1 -j ${NAT_CHAIN}`] },
    ]);
  });
});

const MARK = 'xnet:nic:test-eth1';

describe('planNic', () => {
  const veth: DesiredNic = { name: 'test-eth1', ifName: 'eth1', cidr: '10.76.1.84/24', gateway: '10.76.1.1', defaultRoute: false, netns: NS, attach: { kind: 'veth', bridge: 'br01', hostSubnet: 'hs1' } };
  const hv = vethHostName('test-eth1');
  const tmp = tempName('test-eth1');
  const hostLinks = [link('lo', 1), link('eth0', 2), link('br01', 3, { kind: 'bridge', alias: 'xnet:hostsubnet:hs1' })];
  const noContainer = { links: [link('lo', 1), link('eth0', 9, { kind: 'veth' })], addrs: [], routes: [] };

  it('creates a veth pair, moves it, renames, addresses it and brings it up', () => {
    const p = planNic({ ...veth, mac: '02:42:0a:4c:01:54', defaultRoute: true }, host(hostLinks), noContainer);
    expect(p.problems).toEqual([]);
    expect(p.ops).toEqual([
      { op: 'link.add.veth', name: hv, peer: tmp },
      { op: 'link.set.alias', name: hv, alias: 'xnet:nic:test-eth1' },
      { op: 'link.set.alias', name: tmp, alias: 'xnet:nic:test-eth1' },
      { op: 'link.set.master', name: hv, master: 'br01' },
      { op: 'link.set.up', name: hv },
      { op: 'link.set.netns', name: tmp, into: NS },
      { op: 'link.rename', name: tmp, to: 'eth1', netns: NS },
      { op: 'link.set.mac', name: 'eth1', mac: '02:42:0a:4c:01:54', netns: NS },
      { op: 'addr.add', dev: 'eth1', cidr: '10.76.1.84/24', netns: NS },
      { op: 'link.set.up', name: 'eth1', netns: NS },
      { op: 'route.default', via: '10.76.1.1', dev: 'eth1', netns: NS },
      { op: 'sysctl.set', netns: NS, values: { 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.eth1.arp_ignore': '1', 'net.ipv4.conf.eth1.arp_announce': '2', 'net.ipv4.conf.eth1.arp_notify': '1' } },
    ]);
    // the link moves into the pinned namespace file, never to the PID (which may be another process's by then)
    expect(ipLine(p.ops[5] as never)).toEqual(['link', 'set', tmp, 'netns', '/proc/1/fd/42']);
  });

  it('adopts a NIC that is already in place: nothing to do', () => {
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', alias: MARK, master: 'br01', linkIndex: 11, linkNetnsId: 0 })]);
    const c = { links: [...noContainer.links, link('eth1', 11, { kind: 'veth', alias: MARK })], addrs: [{ dev: 'eth1', cidr: '10.76.1.84/24' }], routes: [] };
    expect(planNic(veth, h, c)).toEqual({ ops: [], problems: [] });
  });

  it('puts back an address removed by hand and replaces a wrong one', () => {
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', alias: MARK, master: 'br01', linkIndex: 11 })]);
    const c = { links: [link('eth1', 11, { kind: 'veth', alias: MARK })], addrs: [{ dev: 'eth1', cidr: '10.76.1.99/24' }], routes: [] };
    expect(planNic(veth, h, c).ops).toEqual([
      { op: 'addr.del', dev: 'eth1', cidr: '10.76.1.99/24', netns: NS },
      { op: 'addr.add', dev: 'eth1', cidr: '10.76.1.84/24', netns: NS },
    ]);
  });

  it('changes the MAC of an existing NIC with the link down for the moment', () => {
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', alias: MARK, master: 'br01', linkIndex: 11 })]);
    const c = { links: [link('eth1', 11, { kind: 'veth', alias: MARK })], addrs: [{ dev: 'eth1', cidr: '10.76.1.84/24' }], routes: [] };
    expect(planNic({ ...veth, mac: '02:42:0A:4C:01:54' }, h, c).ops).toEqual([
      { op: 'link.set.down', name: 'eth1', netns: NS },
      { op: 'link.set.mac', name: 'eth1', mac: '02:42:0A:4C:01:54', netns: NS },
      { op: 'link.set.up', name: 'eth1', netns: NS },
    ]);
  });

  it('clears leftovers of an interrupted attempt before starting again', () => {
    // two links that are not each other's peer (say, the host end of one attempt and the temporary name of another)
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', alias: MARK, master: 'br01', parent: 'veth9' }), link(tmp, 21, { kind: 'veth', alias: MARK })]);
    expect(planNic(veth, h, noContainer).ops.slice(0, 3)).toEqual([
      { op: 'link.del', name: hv }, { op: 'link.del', name: tmp }, { op: 'link.add.veth', name: hv, peer: tmp },
    ]);
  });

  it('deletes a leftover pair once: its temporary name goes with its host end', () => {
    // `ip link del` of the host end deletes the peer; a second `link del` of it would fail and stop the batch
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', alias: MARK, master: 'br01', parent: tmp }), link(tmp, 21, { kind: 'veth', alias: MARK, parent: hv })]);
    expect(planNic(veth, h, noContainer).ops.slice(0, 2)).toEqual([{ op: 'link.del', name: hv }, { op: 'link.add.veth', name: hv, peer: tmp }]);
  });

  it('redoes a NIC left under its temporary name in the container (stopped between the move and the rename) in one plan', () => {
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', alias: MARK, master: 'br01', linkIndex: 11, linkNetnsId: 0 })]);
    const c = { links: [...noContainer.links, link(tmp, 11, { kind: 'veth', alias: MARK, linkIndex: 20, linkNetnsId: 0 })], addrs: [], routes: [] };
    const ops = planNic(veth, h, c).ops;
    expect(ops.slice(0, 2)).toEqual([{ op: 'link.del', name: hv }, { op: 'link.add.veth', name: hv, peer: tmp }]);
    expect(ops.filter((o) => o.op === 'link.del')).toHaveLength(1);
    expect(ops).toContainEqual({ op: 'link.rename', name: tmp, to: 'eth1', netns: NS });
  });

  it('deletes a temporary name in the container that is not the host end\'s peer', () => {
    // the host end's peer is another ifindex: deleting the host end leaves the container's link
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', alias: MARK, master: 'br01', linkIndex: 7, linkNetnsId: 1 })]);
    const c = { links: [...noContainer.links, link(tmp, 11, { kind: 'veth', alias: MARK, linkIndex: 30, linkNetnsId: 0 })], addrs: [], routes: [] };
    expect(planNic(veth, h, c).ops.slice(0, 3)).toEqual([
      { op: 'link.del', name: hv }, { op: 'link.del', name: tmp, netns: NS }, { op: 'link.add.veth', name: hv, peer: tmp },
    ]);
  });

  it('refuses to adopt a same-kind link on the right bridge that carries no xnet mark', () => {
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', alias: MARK, master: 'br01', linkIndex: 11 })]);
    const c = { links: [link('eth1', 11, { kind: 'veth' })], addrs: [], routes: [] };
    expect(planNic(veth, h, c)).toMatchObject({ ops: [], problems: [{ reason: 'InterfaceNameTaken' }] });
  });

  it('refuses to take over an interface it did not make', () => {
    const c = { ...noContainer, links: [link('eth1', 11, { kind: 'veth' })] };
    const p = planNic(veth, host(hostLinks), c);
    expect(p.ops).toEqual([]);
    expect(p.problems[0].reason).toBe('InterfaceNameTaken');
  });

  it('reports a missing bridge instead of planning', () => {
    expect(planNic(veth, host([link('eth0', 2)]), noContainer).problems[0]).toMatchObject({ reason: 'BridgeMissing', message: expect.stringMatching(/HostSubnet \S+'s Ready condition says why\)$/) });
  });

  it('puts a veth only onto a bridge marked as its HostSubnet\'s, never onto a link that merely has the name', () => {
    for (const br of [link('br01', 3, { kind: 'bridge' }), link('br01', 3, { kind: 'bridge', alias: 'xnet:hostsubnet:other' }), link('br01', 3, { kind: 'dummy', alias: 'admin' })]) {
      const p = planNic(veth, host([link('eth0', 2), br]), noContainer);
      expect(p.ops).toEqual([]);
      expect(p.problems).toEqual([{ reason: 'BridgeNotReady', message: expect.stringContaining('HostSubnet hs1') }]);
      // a host end to put back onto it: the same
      const off = host([link('eth0', 2), br, link(hv, 20, { kind: 'veth', alias: MARK, linkIndex: 11, linkNetnsId: 0 })]);
      const inPlace = { links: [link('eth1', 11, { kind: 'veth', alias: MARK })], addrs: [{ dev: 'eth1', cidr: '10.76.1.84/24' }], routes: [] };
      expect(planNic(veth, off, inPlace).problems.map((x) => x.reason)).toEqual(['BridgeNotReady']);
    }
  });

  it('converges a NIC in place on its bridge before the bridge is marked (an upgrade; a network waiting for containers to leave)', () => {
    const h = host([link('eth0', 2), link('br01', 3, { kind: 'bridge' }), link(hv, 20, { kind: 'veth', master: 'br01', linkIndex: 11, linkNetnsId: 0 })]);
    const c = { links: [link('eth1', 11, { kind: 'veth', alias: MARK })], addrs: [{ dev: 'eth1', cidr: '10.76.1.84/24' }], routes: [] };
    expect(planNic(veth, h, c)).toEqual({ ops: [{ op: 'link.set.alias', name: hv, alias: MARK }], problems: [] });
  });

  it('takes what a batch stopped before the marks left as leftovers: an unmarked pair under both names, a macvlan on the parent', () => {
    const pair = host([...hostLinks, link(hv, 20, { kind: 'veth', parent: tmp }), link(tmp, 21, { kind: 'veth', parent: hv })]);
    const p = planNic(veth, pair, noContainer);
    expect(p.problems).toEqual([]);
    expect(p.ops.slice(0, 2)).toEqual([{ op: 'link.del', name: hv }, { op: 'link.add.veth', name: hv, peer: tmp }]);
    const mv: DesiredNic = { ...veth, attach: { kind: 'macvlan', parent: 'eth0', mode: 'bridge' } };
    const onParent = planNic(mv, host([...hostLinks, link(tmp, 21, { kind: 'macvlan', parent: 'eth0' })]), noContainer);
    expect(onParent.problems).toEqual([]);
    expect(onParent.ops[0]).toEqual({ op: 'link.del', name: tmp });
    // a macvlan of that name on another interface is not this NIC's
    expect(planNic(mv, host([...hostLinks, link(tmp, 21, { kind: 'macvlan', parent: 'br01' })]), noContainer).problems.map((x) => x.reason)).toEqual(['InterfaceNameTaken']);
  });

  it('takes an unmarked temporary name that is the marked host end\'s own peer as a leftover (a batch stopped between the marks)', () => {
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', alias: MARK, parent: tmp }), link(tmp, 21, { kind: 'veth', parent: hv })]);
    const p = planNic(veth, h, noContainer);
    expect(p.problems).toEqual([]);
    expect(p.ops.slice(0, 2)).toEqual([{ op: 'link.del', name: hv }, { op: 'link.add.veth', name: hv, peer: tmp }]);
  });

  it('makes a macvlan on the parent for a MacvlanNet NIC', () => {
    const mv: DesiredNic = { ...veth, cidr: '192.168.200.20/24', attach: { kind: 'macvlan', parent: 'eth0', mode: 'bridge' } };
    expect(planNic(mv, host(hostLinks), noContainer).ops).toEqual([
      { op: 'link.add.macvlan', name: tmp, parent: 'eth0', mode: 'bridge' },
      { op: 'link.set.alias', name: tmp, alias: 'xnet:nic:test-eth1' },
      { op: 'link.set.netns', name: tmp, into: NS },
      { op: 'link.rename', name: tmp, to: 'eth1', netns: NS },
      { op: 'addr.add', dev: 'eth1', cidr: '192.168.200.20/24', netns: NS },
      { op: 'link.set.up', name: 'eth1', netns: NS },
      { op: 'sysctl.set', netns: NS, values: NIC_ARP_SYSCTLS('eth1') },
    ]);
    const c = { links: [link('eth1', 11, { kind: 'macvlan', linkIndex: 2, alias: MARK })], addrs: [{ dev: 'eth1', cidr: '192.168.200.20/24' }], routes: [] };
    expect(planNic(mv, host(hostLinks), c)).toEqual({ ops: [], problems: [] });
    expect(planNic({ ...mv, attach: { kind: 'macvlan', parent: 'eth9', mode: 'bridge' } }, host(hostLinks), noContainer).problems[0].reason).toBe('ParentMissing');
  });

  it('changes a working macvlan NIC\'s MAC live and last, never taking it down (a refusal leaves it working)', () => {
    const mv: DesiredNic = { ...veth, cidr: '192.168.200.20/24', mac: '02:42:C0:A8:C8:14', attach: { kind: 'macvlan', parent: 'eth0', mode: 'bridge' } };
    const up = { links: [link('eth1', 11, { kind: 'macvlan', linkIndex: 2, alias: MARK })], addrs: [{ dev: 'eth1', cidr: '192.168.200.20/24' }], routes: [] };
    const garp = { op: 'sysctl.set', netns: NS, values: { 'net.ipv4.conf.eth1.arp_notify': '1' } };
    const setMac = { op: 'link.set.mac', name: 'eth1', mac: '02:42:C0:A8:C8:14', netns: NS };
    expect(planNic(mv, host(hostLinks), up).ops).toEqual([garp, setMac]);
    // down and without its address: address and up first, the MAC after them
    const down = { links: [link('eth1', 11, { kind: 'macvlan', linkIndex: 2, alias: MARK, up: false })], addrs: [], routes: [] };
    expect(planNic(mv, host(hostLinks), down).ops).toEqual([
      { op: 'addr.add', dev: 'eth1', cidr: '192.168.200.20/24', netns: NS },
      { op: 'link.set.up', name: 'eth1', netns: NS },
      garp, setMac,
    ]);
    expect(planNic({ ...mv, mac: '02:00:00:00:00:0b' }, host(hostLinks), up).ops).toEqual([]);
  });

  it('removes a deleted NIC: the host end of a veth, or the macvlan inside the container', () => {
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', alias: MARK })]);
    expect(planNicRemoval({ name: 'test-eth1', ifName: 'eth1', kind: 'veth' }, h, undefined).ops).toEqual([{ op: 'link.del', name: hv }]);
    const c = { links: [link('eth1', 11, { kind: 'macvlan', alias: MARK })], addrs: [], routes: [] };
    expect(planNicRemoval({ name: 'test-eth1', ifName: 'eth1', kind: 'macvlan', netns: NS7 }, host(hostLinks), c).ops).toEqual([{ op: 'link.del', name: 'eth1', netns: NS7 }]);
    // Docker's own macvlan of the same name (no xnet mark) stays
    const docker = { links: [link('eth1', 11, { kind: 'macvlan' })], addrs: [], routes: [] };
    expect(planNicRemoval({ name: 'test-eth1', ifName: 'eth1', kind: 'macvlan', netns: NS7 }, host(hostLinks), docker).ops).toEqual([]);
  });

  it('collects host links of NICs that no longer exist', () => {
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', alias: MARK }), link(vethHostName('gone'), 21, { kind: 'veth', alias: 'xnet:nic:gone' }), link('vethabc', 22)]);
    expect(planNicGarbage(['test-eth1'], h).ops).toEqual([{ op: 'link.del', name: vethHostName('gone') }]);
  });

  it('never collects a link of xnet\'s name pattern that lacks the mark of the NIC its name is made from', () => {
    const h = host([...hostLinks,
      link(vethHostName('a'), 21, { kind: 'dummy' }), // no mark: the host's own
      link(vethHostName('b'), 22, { kind: 'veth', alias: 'xnet:nic:c' }), // a mark, of another NIC
      link(tempName('d'), 23, { kind: 'veth', alias: 'admin: uplink' })]);
    expect(planNicGarbage([], h).ops).toEqual([]);
  });

  it('removes a deleted NIC\'s host links only when they carry its mark', () => {
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth' }), link(tmp, 21, { kind: 'dummy', alias: 'xnet:nic:other' })]);
    expect(planNicRemoval({ name: 'test-eth1', ifName: 'eth1', kind: 'veth' }, h, undefined).ops).toEqual([]);
  });

  it('leaves an unmarked link under the NIC\'s host or temporary name alone and says so', () => {
    const cases: Array<[HostState, ContainerState, string]> = [
      [host([...hostLinks, link(hv, 20, { kind: 'dummy' })]), noContainer, `host interface ${hv}`],
      [host([...hostLinks, link(tmp, 21, { kind: 'veth' })]), noContainer, `host interface ${tmp}`],
      [host(hostLinks), { ...noContainer, links: [...noContainer.links, link(tmp, 12, { kind: 'veth' })] }, `container interface ${tmp}`],
    ];
    for (const [h, c, where] of cases) {
      const p = planNic(veth, h, c);
      expect(p.ops).toEqual([]);
      expect(p.problems).toEqual([{ reason: 'InterfaceNameTaken', message: expect.stringContaining(where) }]);
    }
  });

  it('makes a NIC again whose marked link is not the declared one: deleted first, in the container', () => {
    const mv: DesiredNic = { ...veth, attach: { kind: 'macvlan', parent: 'eth0', mode: 'bridge' } };
    const mvLink = link('eth1', 11, { kind: 'macvlan', alias: MARK, linkIndex: 2 });
    // a macvlan NIC renamed: the old name goes before the new macvlan takes its MAC
    const renamed = planNic({ ...mv, ifName: 'eth2', mac: '02:42:0a:4c:01:54' }, host(hostLinks), { ...noContainer, links: [...noContainer.links, mvLink] });
    expect(renamed.problems).toEqual([]);
    expect(renamed.ops.slice(0, 2)).toEqual([{ op: 'link.del', name: 'eth1', netns: NS }, { op: 'link.add.macvlan', name: tmp, parent: 'eth0', mode: 'bridge' }]);
    // a macvlan NIC moved to a ClusterNetwork (a veth in its place), under the same name
    const toVeth = planNic(veth, host(hostLinks), { ...noContainer, links: [...noContainer.links, mvLink] });
    expect(toVeth.ops.slice(0, 2)).toEqual([{ op: 'link.del', name: 'eth1', netns: NS }, { op: 'link.add.veth', name: hv, peer: tmp }]);
    // a veth NIC moved to a MacvlanNet: its container end goes with its host end, deleted once
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', alias: MARK, master: 'br01', linkIndex: 11, linkNetnsId: 0 })]);
    const vethIn = { ...noContainer, links: [...noContainer.links, link('eth1', 11, { kind: 'veth', alias: MARK, linkIndex: 20, linkNetnsId: 0 })] };
    // its default route through the veth goes with the link: nothing deletes it again (the batch would fail)
    const withRoute = { ...vethIn, routes: [{ dst: 'default', via: '10.76.1.1', dev: 'eth1', proto: '76' }] };
    expect(planNic({ ...mv, defaultRoute: true, gateway: undefined }, h, withRoute).ops.filter((o) => o.op === 'route.del')).toEqual([]);
    const toMv = planNic(mv, h, vethIn).ops;
    expect(toMv.slice(0, 2)).toEqual([{ op: 'link.del', name: hv }, { op: 'link.add.macvlan', name: tmp, parent: 'eth0', mode: 'bridge' }]);
    expect(toMv.filter((o) => o.op === 'link.del')).toHaveLength(1);
    // a veth whose host end was renamed: its container end (taking the renamed end along), then a new pair
    const cut = planNic(veth, host(hostLinks), { ...noContainer, links: [...noContainer.links, link('eth1', 11, { kind: 'veth', alias: MARK, linkIndex: 33, linkNetnsId: 0 })] });
    expect(cut.ops.slice(0, 2)).toEqual([{ op: 'link.del', name: 'eth1', netns: NS }, { op: 'link.add.veth', name: hv, peer: tmp }]);
  });

  it('gives both ends of a NIC in place the MTU its ClusterNetwork now declares', () => {
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', alias: MARK, master: 'br01', linkIndex: 11, linkNetnsId: 0 })]);
    const c = { links: [...noContainer.links, link('eth1', 11, { kind: 'veth', alias: MARK })], addrs: [{ dev: 'eth1', cidr: '10.76.1.84/24' }], routes: [] };
    expect(planNic({ ...veth, mtu: 1400 }, h, c).ops).toEqual([{ op: 'link.set.mtu', name: hv, mtu: 1400 }, { op: 'link.set.mtu', name: 'eth1', mtu: 1400, netns: NS }]);
    expect(nicDifferences({ ...veth, mtu: 1400 }, c)).toEqual(['MTU 1500, declared 1400']);
    expect(planNic(veth, h, c).ops).toEqual([]);
  });

  it('marks the host end of a NIC in place that was made before host ends were marked', () => {
    const h = host([...hostLinks, link(hv, 20, { kind: 'veth', master: 'br01', linkIndex: 11, linkNetnsId: 0 })]);
    const c = { links: [...noContainer.links, link('eth1', 11, { kind: 'veth', alias: MARK })], addrs: [{ dev: 'eth1', cidr: '10.76.1.84/24' }], routes: [] };
    expect(planNic(veth, h, c)).toEqual({ ops: [{ op: 'link.set.alias', name: hv, alias: MARK }], problems: [] });
  });
});

describe('planMacvlan', () => {
  const network: DockerNetworkSpec = {
    name: 'macvlan200', driver: 'macvlan', subnet: '192.168.200.0/24', ipRange: '192.168.200.128/28',
    options: { parent: 'eth0', macvlan_mode: 'bridge' }, labels: { 'io.xnet.owner': 'MacvlanNet/macvlan200' },
  };
  const d: DesiredMacvlan = { name: 'macvlan200', parent: 'eth0', promiscuous: true, network, shim: { address: '192.168.200.2', routes: ['192.168.200.128/28', '192.168.200.20/32'] } };
  const shim = shimName('macvlan200');
  const base = [link('lo', 1), link('eth0', 2)];
  const SHIM_MARK = 'xnet:shim:macvlan200';

  it('sets promiscuous mode, makes the Docker network and the shim with its routes', () => {
    expect(planMacvlan(d, host(base), []).ops).toEqual([
      { op: 'link.set.promisc', name: 'eth0', on: true },
      { op: 'docker.network.create', spec: network },
      { op: 'link.add.macvlan', name: shim, parent: 'eth0', mode: 'bridge' },
      { op: 'link.set.alias', name: shim, alias: SHIM_MARK },
      { op: 'addr.add', dev: shim, cidr: '192.168.200.2/32' },
      { op: 'link.set.up', name: shim },
      { op: 'route.replace', dst: '192.168.200.128/28', dev: shim },
      { op: 'route.replace', dst: '192.168.200.20/32', dev: shim },
    ]);
  });

  it('adopts a converged node: nothing to do', () => {
    const h = host(
      [link('lo', 1), link('eth0', 2, { promisc: true }), link(shim, 5, { kind: 'macvlan', parent: 'eth0', alias: SHIM_MARK })],
      [{ dst: '192.168.200.128/28', dev: shim, proto: '76' }, { dst: '192.168.200.20', dev: shim, proto: '76' }],
      [{ dev: shim, cidr: '192.168.200.2/32' }],
    );
    expect(planMacvlan(d, h, [{ ...network, id: 'x', containers: 3 }])).toEqual({ ops: [], problems: [] });
  });

  it('drops the shim route of a NIC that went away', () => {
    const h = host(
      [link('lo', 1), link('eth0', 2, { promisc: true }), link(shim, 5, { kind: 'macvlan', parent: 'eth0', alias: SHIM_MARK })],
      [{ dst: '192.168.200.128/28', dev: shim, proto: '76' }, { dst: '192.168.200.20', dev: shim, proto: '76' }],
      [{ dev: shim, cidr: '192.168.200.2/32' }],
    );
    expect(planMacvlan({ ...d, shim: { address: '192.168.200.2', routes: ['192.168.200.128/28'] } }, h, [{ ...network, id: 'x', containers: 0 }]).ops)
      .toEqual([{ op: 'route.del', dst: '192.168.200.20/32', dev: shim, proto: '76' }]);
  });

  // The kernel flushes every route through a device whose last IPv4 address goes: the old
  // address deleted first took the shim's routes along, and the batch's route del of one of
  // them then failed ("No such process", seen in a full run) until a retry re-planned it.
  it('gives the shim its new address before taking the old one, so its routes are never flushed', () => {
    const h = host(
      [link('lo', 1), link('eth0', 2, { promisc: true }), link(shim, 5, { kind: 'macvlan', parent: 'eth0', alias: SHIM_MARK })],
      [{ dst: '192.168.200.128/28', dev: shim, proto: '76' }, { dst: '192.168.200.20', dev: shim, proto: '76' }],
      [{ dev: shim, cidr: '192.168.200.2/32' }],
    );
    const ops = planMacvlan({ ...d, shim: { address: '192.168.200.3', routes: ['192.168.200.128/28'] } }, h, [{ ...network, id: 'x', containers: 0 }]).ops;
    expect(ops).toEqual([
      { op: 'addr.add', dev: shim, cidr: '192.168.200.3/32' },
      { op: 'addr.del', dev: shim, cidr: '192.168.200.2/32' },
      { op: 'route.del', dst: '192.168.200.20/32', dev: shim, proto: '76' },
    ]);
  });

  it('plans the VLAN sub-interface <parent>.<vlan>, marked as xnet\'s, and attaches everything to it', () => {
    const vnet = { ...network, options: { parent: 'eth0.200', macvlan_mode: 'bridge' } };
    const p = planMacvlan({ ...d, vlan: 200, network: vnet, shim: undefined, promiscuous: false }, host(base), []);
    expect(p.ops).toEqual([
      { op: 'link.add.vlan', name: 'eth0.200', parent: 'eth0', vlan: 200 },
      { op: 'link.set.alias', name: 'eth0.200', alias: 'xnet:vlan' },
      { op: 'link.set.up', name: 'eth0.200' },
      { op: 'docker.network.create', spec: vnet },
    ]);
    expect(ipLine(p.ops[0] as never)).toEqual(['link', 'add', 'eth0.200', 'link', 'eth0', 'type', 'vlan', 'id', '200']);
  });

  it('uses an existing <parent>.<vlan> only when it is that VLAN of that parent', () => {
    const vnet = { ...network, options: { parent: 'eth0.200', macvlan_mode: 'bridge' } };
    const want = { ...d, vlan: 200, network: vnet, shim: undefined, promiscuous: false };
    const vlanOf = (lower: string) => host([...base, link('eth1', 3), link('eth0.200', 4, { kind: 'vlan', vlanId: 200, parent: lower, alias: 'xnet:vlan' })]);
    expect(planMacvlan(want, vlanOf('eth0'), []).problems).toEqual([]);
    // a host's link of that name on another interface (renamed, or made by hand) is not ours
    const other = planMacvlan(want, vlanOf('eth1'), []);
    expect(other.ops).toEqual([]);
    expect(other.problems).toEqual([{ reason: 'ParentConflict', message: 'eth0.200 exists but is not VLAN 200 on eth0' }]);
  });

  it('reports a missing parent and plans nothing', () => {
    const p = planMacvlan({ ...d, parent: 'enp0s5' }, host(base), []);
    expect(p.ops).toEqual([]);
    expect(p.problems[0].reason).toBe('ParentMissing');
  });

  it('removes the shim when hostShim is off, and everything when the network goes', () => {
    const h = host([link('eth0', 2, { promisc: true }), link(shim, 5, { kind: 'macvlan', parent: 'eth0', alias: SHIM_MARK })]);
    expect(planMacvlan({ ...d, shim: undefined }, h, [{ ...network, id: 'x', containers: 0 }]).ops).toEqual([{ op: 'link.del', name: shim }]);
    expect(planMacvlanRemoval('macvlan200', h, [{ ...network, id: 'x', containers: 0 }], new Map([['x', 'MacvlanNet/macvlan200']])).ops).toEqual([
      { op: 'docker.network.remove', name: 'macvlan200', id: 'x' }, { op: 'link.del', name: shim },
    ]);
  });

  it('leaves a link under the shim name alone unless it is the marked shim; marks one an older agent made', () => {
    const routes = [{ dst: '192.168.200.128/28', dev: shim, proto: '76' }, { dst: '192.168.200.20', dev: shim, proto: '76' }];
    const addrs = [{ dev: shim, cidr: '192.168.200.2/32' }];
    const older = host([link('eth0', 2, { promisc: true }), link(shim, 5, { kind: 'macvlan', parent: 'eth0' })], routes, addrs);
    expect(planMacvlan(d, older, [{ ...network, id: 'x', containers: 0 }]).ops).toEqual([{ op: 'link.set.alias', name: shim, alias: SHIM_MARK }]);
    // an older agent's shim on a parent changed meanwhile: adopted, then made again on the new one; removed with the network
    const moved = host([link('eth0', 2, { promisc: true }), link('eth9', 3), link(shim, 5, { kind: 'macvlan', parent: 'eth9' })], routes, addrs);
    expect(planMacvlan(d, moved, [{ ...network, id: 'x', containers: 0 }]).ops.slice(0, 3)).toEqual([
      { op: 'link.set.alias', name: shim, alias: SHIM_MARK }, { op: 'link.del', name: shim }, { op: 'link.add.macvlan', name: shim, parent: 'eth0', mode: 'bridge' },
    ]);
    expect(planMacvlanRemoval('macvlan200', moved, [], undefined).ops).toEqual([{ op: 'link.del', name: shim }]);
    for (const other of [link(shim, 5, { kind: 'bridge' }), link(shim, 5, { kind: 'macvlan', parent: 'eth0', alias: 'admin' })]) {
      const h = host([link('eth0', 2, { promisc: true }), link('eth9', 3), other]);
      const p = planMacvlan(d, h, [{ ...network, id: 'x', containers: 0 }]);
      expect(p.problems).toEqual([{ reason: 'InterfaceNameTaken', message: expect.stringContaining(shim) }]);
      expect(planMacvlan({ ...d, shim: undefined }, h, []).ops.filter((o) => o.op === 'link.del')).toEqual([]);
      expect(planMacvlanRemoval('macvlan200', h, [], undefined).ops).toEqual([]);
    }
  });
});

describe('steps', () => {
  it('runs many route changes as one ip -batch, and splits only where the namespace or kind changes', () => {
    const routes = Array.from({ length: 200 }, (_, i) => ({ op: 'route.replace' as const, dst: `10.77.${i}.0/24`, via: '198.18.0.12' }));
    expect(steps(routes)).toEqual([{ kind: 'ip', ops: routes }]);
    const nic = planNic({ name: 'n', ifName: 'eth1', cidr: '10.76.1.84/24', defaultRoute: false, netns: NS7, attach: { kind: 'veth', bridge: 'br01', hostSubnet: 'hs1' } },
      host([link('br01', 3, { kind: 'bridge', alias: 'xnet:hostsubnet:hs1' })]), { links: [], addrs: [], routes: [] });
    expect(steps(nic.ops).map((s) => (s.kind === 'ip' ? [s.netns?.path ?? 'host', s.ops.length] : [s.op.op]))).toEqual([['host', 6], ['/proc/1/fd/7', 3], ['sysctl.set']]);
    const mv = steps([{ op: 'link.set.promisc', name: 'eth0', on: true }, { op: 'docker.network.create', spec: {} as never }, { op: 'link.add.macvlan', name: 'x', parent: 'eth0', mode: 'bridge' }]);
    expect(mv.map((s) => s.kind)).toEqual(['ip', 'other', 'ip']);
  });
});
