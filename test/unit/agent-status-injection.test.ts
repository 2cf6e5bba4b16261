// Status values are plain strings in etcd; anyone able to write a status key must not be able
// to add a line to the agent's `ip -batch` (or iptables-restore) input. Two layers: the
// desired-state mapping refuses invalid values with InvalidStatus, and the batch builders
// refuse arguments that would split a command whatever reaches them.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type ClusterNetwork, type ContainerNic, type HostSubnet, type MacvlanNet, type Node } from '../../pkg/api/index.js';
import {
  bridgeNetworkSpec, desiredMacvlan, desiredNat, hostSubnetView, nicStatusView, nodeView,
} from '../../pkg/agent/desired.js';
import { peerRoutes } from '../../pkg/agent/peer-routes.js';
import { planRoutes } from '../../pkg/agent/planner/routes.js';
import { ipLine } from '../../pkg/agent/planner/ops.js';
import { batchInput, IpBatchArgumentError, IpRunner } from '../../pkg/netlink/ip.js';
import { IptablesInputError, restoreInput } from '../../pkg/netlink/iptables.js';

const EVIL = 'br01\nroute del default';
const meta = (name: string) => ({ name, generation: 1 });
const cn: ClusterNetwork = { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta('default'), spec: { cidr: '10.76.0.0/16', hostPrefix: 24, bridgePrefix: 'br', masquerade: true } };
const hs = (node: string, i: number, status: Record<string, unknown> = {}): HostSubnet => ({
  apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta(`default-${node}`),
  spec: { node, clusterNetwork: 'default', icc: true },
  status: { subnet: `10.76.${i}.0/24`, gateway: `10.76.${i}.1`, bridge: `br0${i}`, dockerRange: `10.76.${i}.128/25`, ...status },
});
const node = (name: string, status: Record<string, unknown> = {}): Node => ({ apiVersion: API_VERSION, kind: 'Node', metadata: meta(name), spec: {}, status });
const nic = (name: string, status: Record<string, unknown>): ContainerNic => ({
  apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta(name),
  spec: { node: 'host-1', container: 'test', ifName: 'eth1', network: { macvlanNet: 'mv' }, defaultRoute: false }, status,
});
const mvn = (nodeStatus: Record<string, unknown>): MacvlanNet => ({
  apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: meta('mv'),
  spec: { subnet: '192.168.200.0/24', mode: 'bridge', promiscuous: true, hostShim: true, blockPrefix: 28, dockerIPAM: 'blocks', parent: 'eth0' },
  status: { nodes: [{ name: 'host-1', dockerRange: '192.168.200.128/28', shimAddress: '192.168.200.250', ...nodeStatus }] },
});

describe('status values are checked before they become desired state', () => {
  it.each([
    ['bridge', EVIL], ['subnet', '10.76.1.0/24\nroute del default'], ['gateway', '10.76.1.1 dev lo'],
    ['dockerRange', '10.76.1.128/25\x00'], ['nodeAddress', '198.18.0.12\nlink del eth0'],
  ])('a HostSubnet with status.%s %j gets InvalidStatus and no Docker network', (field, value) => {
    const bad = hs('host-1', 1, { [field]: value });
    const r = bridgeNetworkSpec(bad, cn);
    expect(r.spec).toBeUndefined();
    expect(r.problem?.reason).toBe('InvalidStatus');
    expect(r.problem?.message).toContain(`status.${field}`);
    expect(hostSubnetView(bad)).toEqual({ problem: r.problem });
  });

  it('names a bad spec value InvalidSpec (a spec written to etcd around xctl)', () => {
    const bad: HostSubnet = { ...hs('host-1', 1), status: {}, spec: { node: 'host-1', clusterNetwork: 'default', icc: true, bridge: EVIL, subnet: '10.76.1.0/24' } };
    expect(bridgeNetworkSpec(bad, cn).problem).toMatchObject({ reason: 'InvalidSpec', message: expect.stringContaining('spec.bridge') });
  });

  it('keeps a bad bridge out of the NAT rules', () => {
    const { clusterCidrs, local } = desiredNat([cn], [hs('host-1', 1), hs('host-1', 2, { bridge: EVIL })]);
    expect({ clusterCidrs, local }).toEqual({ clusterCidrs: ['10.76.0.0/16'], local: [{ bridge: 'br01', subnet: '10.76.1.0/24', gateway: '10.76.1.1', clusterCidr: '10.76.0.0/16', hostSubnet: 'default-host-1' }] });
  });

  it('makes no route to a peer whose HostSubnet or Node holds an invalid value, and says why', () => {
    // a Node's reported status.address is never a next hop (the controller checks and copies it); its spec is
    const nodes = new Map([['host-3', { ...node('host-3'), spec: { address: '198.18.0.13\nroute del default' } }]]);
    const d = peerRoutes('host-1', [hs('host-2', 2, { nodeAddress: '198.18.0.12 dev lo' }), hs('host-3', 3), hs('host-4', 4, { nodeAddress: '198.18.0.14' })], { nodes, clusterNetworks: new Map([['default', cn]]) });
    expect(d.routes).toEqual([{ dst: '10.76.4.0/24', via: '198.18.0.14' }]);
    // the routes that work stay while the bad next hop is fixed
    expect(d.keep).toEqual(['10.76.2.0/24', '10.76.3.0/24']);
    expect(d.problems.map((p) => p.reason)).toEqual(['InvalidStatus', 'InvalidSpec']);
    expect(d.problems[0].message).toContain('HostSubnet default-host-2: status.nodeAddress');
    expect(d.problems[1].message).toContain('Node host-3: spec.address');
    expect(planRoutes(d.routes, [], () => true, d.keep).ops).toEqual([{ op: 'route.replace', dst: '10.76.4.0/24', via: '198.18.0.14' }]);
  });

  it('keeps no route when the peer\'s subnet itself is bad', () => {
    const d = peerRoutes('host-1', [hs('host-2', 2, { subnet: '10.76.2.0/24\nroute del default' })], { nodes: new Map(), clusterNetworks: new Map([['default', cn]]) });
    expect(d).toMatchObject({ routes: [], keep: [], problems: [{ reason: 'InvalidStatus' }] });
  });

  it('treats null status values as not set', () => {
    expect(nicStatusView(nic('n1', { ip: '10.76.1.5', gateway: null }))).toEqual({ ip: '10.76.1.5' });
  });

  it('checks a Node\'s detected interface', () => {
    expect(nodeView(node('n', { interface: 'eth0\nlink del eth0' })).problem?.message).toContain('status.interface');
    expect(nodeView(node('n', { address: '198.18.0.1', interface: 'eth0' }))).toEqual({ address: '198.18.0.1', interface: 'eth0' });
  });

  it.each([
    ['ip', '10.76.1.5\nroute del default'], ['prefixLength', 33], ['prefixLength', '24 dev lo'],
    ['gateway', '10.76.1.1\x00'], ['mac', '02:42:0a:4c:01:05\nlink del eth0'],
  ])('a ContainerNic with status.%s %j gets InvalidStatus', (field, value) => {
    const v = nicStatusView(nic('n1', { ip: '10.76.1.5', prefixLength: 24, [field]: value }));
    expect(v.ip).toBeUndefined();
    expect(v.problem).toMatchObject({ reason: 'InvalidStatus', message: expect.stringContaining(`status.${field}`) });
  });

  it.each([
    ['parent', 'eth0\nroute del default'], ['dockerRange', '192.168.200.128/28 dev lo'], ['shimAddress', '192.168.200.250\nlink del eth0'],
  ])('a MacvlanNet with status.nodes[].%s %j gets InvalidStatus and nothing to plan', (field, value) => {
    const r = desiredMacvlan(mvn({ [field]: value }), 'host-1', node('host-1'), []);
    expect(r.desired).toBeUndefined();
    expect(r.problem).toMatchObject({ reason: 'InvalidStatus', message: expect.stringContaining(`status.nodes[0].${field}`) });
  });

  it('a MacvlanNet whose parent would come from a bad Node interface gets InvalidStatus', () => {
    const m = mvn({});
    delete (m.spec as { parent?: string }).parent;
    expect(desiredMacvlan(m, 'host-1', node('host-1', { interface: EVIL }), []).problem?.reason).toBe('InvalidStatus');
  });

  it('gives the shim no route to a NIC with an invalid address', () => {
    const r = desiredMacvlan(mvn({}), 'host-1', node('host-1'), [nic('a', { ip: '192.168.200.129' }), nic('b', { ip: '192.168.200.130\nroute del default' })]);
    expect(r.desired?.shim?.routes).toEqual(['192.168.200.128/28', '192.168.200.129/32']);
  });
});

describe('batch builders refuse arguments that would split a command', () => {
  it('builds ip batch input from clean lines', () => {
    expect(batchInput([['link', 'set', 'br01', 'up'], ['route', 'del', '10.0.0.0/8']])).toBe('link set br01 up\nroute del 10.0.0.0/8\n');
  });

  it.each([EVIL, 'br01\x00', 'br01\r', 'br01 down', '', 'br01#x', '"br01"'])('refuses the argument %j', (arg) => {
    const line = ipLine({ op: 'link.set.up', name: arg });
    expect(() => batchInput([['link', 'set', 'lo', 'up'], line])).toThrow(IpBatchArgumentError);
    try { batchInput([line]); } catch (e) { expect(e).toMatchObject({ reason: 'UnsafeArgument', index: 2, line }); }
  });

  it('IpRunner.batch refuses before starting ip', async () => {
    // A namespace that cannot exist: even if the check regressed nothing could act on a real one.
    const ip = new IpRunner({ kind: 'netns', name: 'xnet-never-exists-0' });
    await expect(ip.batch([['link', 'set', EVIL, 'up']])).rejects.toBeInstanceOf(IpBatchArgumentError);
  });

  it('refuses an iptables-restore line with a newline or NUL', () => {
    expect(restoreInput('nat', ['-A X -o br01 -j RETURN'])).toBe('*nat\n-A X -o br01 -j RETURN\nCOMMIT\n');
    expect(() => restoreInput('nat', ['-A X -o br01\n-F POSTROUTING -j RETURN'])).toThrow(IptablesInputError);
    expect(() => restoreInput('nat', ['-A X -o br01\x00 -j RETURN'])).toThrow(IptablesInputError);
  });
});
