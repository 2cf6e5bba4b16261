// A node's HostSubnets pass against a recorded dataplane: what it asks of Docker and the kernel,
// in which order, and what each HostSubnet's status says. Drift of the bridge (down, gateway
// gone) is put back; one HostSubnet Docker refuses stops no other; a renamed network's old one
// is removed before the new one is made (Docker refuses overlapping subnets). A network labelled
// for a gone HostSubnet is removed only when this node's record says it made it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NetworkRecord, RETRY_FIRST_MS } from '../../pkg/agent/network-record.js';
import { API_VERSION, type ClusterNetwork, type HostSubnet, type Node } from '../../pkg/api/index.js';
import type { AgentContext } from '../../pkg/agent/context.js';
import { ApplyError } from '../../pkg/agent/dataplane.js';
import { bridgeNetworkSpec } from '../../pkg/agent/desired.js';
import { bridgeMac, gatewayCidr, planBridgeState } from '../../pkg/agent/planner/bridge.js';
import { endpointHostEnd } from '../../pkg/agent/reconcilers/host-subnet-ports.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { bridgeAlias } from '../../pkg/agent/planner/names.js';
import { reconcileHostSubnets } from '../../pkg/agent/reconcilers/host-subnets.js';
import { DockerError, type DockerNetwork } from '../../pkg/docker/types.js';
import type { Addr, Link } from '../../pkg/netlink/types.js';

const meta = (name: string) => ({ name, generation: 1 });
const cn = (name: string, cidr: string, dockerNetwork: string): ClusterNetwork =>
  ({ apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta(name), spec: { cidr, hostPrefix: 24, dockerNetwork } }) as ClusterNetwork;
const hs = (name: string, clusterNetwork: string, subnet: string, bridge: string): HostSubnet =>
  ({ apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta(name), spec: { node: 'host-1', clusterNetwork, subnet, bridge } }) as HostSubnet;
const self: Node = { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'host-1' }, spec: {} };
const bridge = (name: string, up: boolean, alias?: string): Link => ({ ifindex: 5, name, kind: 'bridge', mac: '02:42:00:00:00:01', mtu: 1500, up, promisc: false, ...(alias ? { alias } : {}) });

/** The Docker network Docker made for h (in place, as declared) under `name`. */
function made(h: HostSubnet, c: ClusterNetwork, name = c.spec.dockerNetwork!): DockerNetwork {
  const s = bridgeNetworkSpec(h, c).spec!;
  return { id: name, name, driver: 'bridge', subnet: s.subnet, gateway: s.gateway, ipRange: s.ipRange, options: s.options, labels: s.labels, containers: 0 };
}

/** `made`: what this node's network record holds (id -> owner label) before the pass */
interface World { cns: ClusterNetwork[]; hostSubnets: HostSubnet[]; networks: DockerNetwork[]; links: Link[]; addrs: Addr[]; refuse?: (o: Op) => Error | undefined; made?: Record<string, string>; record?: NetworkRecord }

const stateDir = mkdtempSync(join(tmpdir(), 'xnet-hs-reconcile-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
let records = 0;
/** A record in a file of its own, holding `made`. */
function recordOf(made: Record<string, string> = {}): NetworkRecord {
  const r = new NetworkRecord(join(stateDir, `networks-${records++}.json`), () => undefined);
  r.update(new Map(Object.entries(made)));
  return r;
}

function hostOf(w: World) {
  const executed: Op[] = [];
  const warnings: string[] = [];
  const networks = w.record ?? recordOf(w.made);
  const status = new Map<string, { status: string; reason: string }>();
  /** status writes and ops, in the order they happened */
  const timeline: string[] = [];
  const list = <T extends { metadata: { name: string } }>(xs: T[]) => ({ list: () => xs, get: (n: string) => xs.find((x) => x.metadata.name === n) });
  const ctx = {
    node: 'host-1', log: { info: () => undefined, warn: (m: string) => { warnings.push(m); }, debug: () => undefined }, networks,
    caches: { hostSubnets: list(w.hostSubnets), clusterNetworks: list(w.cns), macvlanNets: list([]), nics: list([]), nodes: list([self]) },
    status: {
      write: async (_k: string, o: HostSubnet, _f: unknown, r: { status: string; reason: string }) => { status.set(o.metadata.name, r); timeline.push(`report ${o.metadata.name} ${r.status}/${r.reason}`); },
      hasReport: (_k: string, o: HostSubnet) => status.has(o.metadata.name),
    },
    dp: {
      ip: { linksAndAddrs: async () => ({ links: w.links, addrs: w.addrs }) },
      dockerNetworks: async () => w.networks,
      // no container on the networks: a bridge made again has no Docker port to take back
      docker: { networkEndpoints: async () => [], inspectNetwork: async (name: string) => w.networks.find((n) => n.name === name) },
      execute: async (ops: Op[]) => { for (const o of ops) { const e = w.refuse?.(o); if (e) throw e; executed.push(o); timeline.push(o.op); } },
    },
  } as unknown as AgentContext;
  return { ctx, executed, status, timeline, warnings, networks };
}

const dflt = cn('default', '10.76.0.0/16', 'net1');
const h1 = hs('default-host-1', 'default', '10.76.1.0/24', 'br01');

describe('a HostSubnet bridge set down or stripped of its gateway', () => {
  it('given another MTU by hand: its network\'s MTU is put back', async () => {
    const lowered = { ...bridge('br01', true, bridgeAlias('default-host-1')), mtu: 1280 };
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [made(h1, dflt)], links: [lowered], addrs: [{ dev: 'br01', cidr: '10.76.1.1/24' }] });
    await reconcileHostSubnets(w.ctx);
    expect(w.executed).toEqual([{ op: 'link.set.mtu', name: 'br01', mtu: 1500 }]);
  });

  it('is brought back up and given its gateway again; Ready once done', async () => {
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [made(h1, dflt)], links: [bridge('br01', false, bridgeAlias('default-host-1'))], addrs: [] });
    await reconcileHostSubnets(w.ctx);
    expect(w.executed).toEqual([{ op: 'addr.add', dev: 'br01', cidr: '10.76.1.1/24' }, { op: 'link.set.up', name: 'br01' }]);
    expect(w.status.get('default-host-1')?.status).toBe('True');
  });

  it('is not Ready while the kernel refuses to bring it up', async () => {
    const refuse = (o: Op) => (o.op === 'link.set.up' ? new ApplyError('KernelRefused', 'ip link set br01 up: refused') : undefined);
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [made(h1, dflt)], links: [bridge('br01', false, bridgeAlias('default-host-1'))], addrs: [{ dev: 'br01', cidr: '10.76.1.1/24' }], refuse });
    await expect(reconcileHostSubnets(w.ctx)).rejects.toThrow(/refused/);
    expect(w.status.get('default-host-1')).toMatchObject({ status: 'False', reason: 'KernelRefused' });
  });

  it('plans only what is missing, and never removes an address xnet did not put there', () => {
    const up = bridge('br01', true);
    expect(planBridgeState(up, [{ dev: 'br01', cidr: '10.76.1.1/24' }, { dev: 'br01', cidr: '192.0.2.7/24' }], '10.76.1.1/24')).toEqual([]);
    // the same address on another link, or with another prefix length, is not the gateway
    expect(planBridgeState(up, [{ dev: 'eth0', cidr: '10.76.1.1/24' }, { dev: 'br01', cidr: '10.76.1.1/16' }], '10.76.1.1/24'))
      .toEqual([{ op: 'addr.add', dev: 'br01', cidr: '10.76.1.1/24' }]);
    // a bridge that is gone is made again by planBridgeRemake
    expect(planBridgeState(undefined, [], '10.76.1.1/24')).toEqual([]);
    // its network's MTU, put back when changed by hand; left as it is when the MTU is not known
    expect(planBridgeState(up, [{ dev: 'br01', cidr: '10.76.1.1/24' }], '10.76.1.1/24', 1400)).toEqual([{ op: 'link.set.mtu', name: 'br01', mtu: 1400 }]);
    expect(planBridgeState(up, [{ dev: 'br01', cidr: '10.76.1.1/24' }], '10.76.1.1/24', 1500)).toEqual([]);
    expect(gatewayCidr('10.76.64.1', '10.76.64.0/22')).toBe('10.76.64.1/22');
  });
});

describe('a HostSubnet bridge deleted from the kernel while Docker keeps its network', () => {
  const remade = (mtu: number) => [
    { op: 'link.add.bridge', name: 'br01', mtu, mac: '02:42:0a:4c:01:01' },
    { op: 'link.set.alias', name: 'br01', alias: bridgeAlias('default-host-1') },
    { op: 'addr.add', dev: 'br01', cidr: '10.76.1.1/24' },
    { op: 'sysctl.set', values: { 'net.ipv4.conf.br01.arp_notify': '1' } },
    { op: 'link.set.up', name: 'br01' },
  ];

  it('is made again itself, marked, with the gateway, then up: the network stays (no Docker op); Ready', async () => {
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [made(h1, dflt)], links: [], addrs: [] });
    await reconcileHostSubnets(w.ctx);
    expect(w.executed).toEqual(remade(1500));
    expect(w.status.get('default-host-1')?.status).toBe('True');
    expect(bridgeMac('10.76.64.1')).toBe('02:42:0a:4c:40:01');
  });

  it('is made as the network Docker has declares it (its MTU) when that network waits for its containers to leave', async () => {
    const old = made(h1, dflt);
    const net = { ...old, containers: 1, options: { ...old.options, 'com.docker.network.driver.mtu': '1400' } };
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [net], links: [], addrs: [] });
    await reconcileHostSubnets(w.ctx);
    expect(w.executed).toEqual(remade(1400));
    expect(w.status.get('default-host-1')).toMatchObject({ status: 'False', reason: 'NetworkInUse' });
  });

  it('is not made for a network xnet did not make (NetworkConflict): Docker\'s or the user\'s', async () => {
    const theirs = { ...made(h1, dflt), labels: {}, subnet: '10.9.0.0/24' };
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [theirs], links: [], addrs: [] });
    await reconcileHostSubnets(w.ctx);
    expect(w.executed).toEqual([]);
    expect(w.status.get('default-host-1')).toMatchObject({ status: 'False', reason: 'NetworkConflict' });
  });

  it('says how the user\'s network differs, not that the bridge it never had is gone', async () => {
    const theirs = { ...made(h1, dflt), labels: {}, subnet: '10.9.0.0/24', options: { 'com.docker.network.bridge.name': 'hb01' } };
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [theirs], links: [bridge('hb01', true)], addrs: [] });
    await reconcileHostSubnets(w.ctx).catch(() => undefined);
    const message = (w.status.get('default-host-1') as { message?: string } | undefined)?.message;
    expect(message).toBe('Docker network net1 exists and was not made by xnet (subnet is 10.9.0.0/24, want 10.76.1.0/24); remove or rename it');
  });
});

describe('a HostSubnet bridge remade only for xnet\'s network, and finished after a remake that stopped midway', () => {
  it('is not made, nor any port moved, under a network of that name that xnet did not make (no owner label)', async () => {
    const theirs = { ...made(h1, dflt), labels: {} };
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [theirs], links: [], addrs: [] });
    await reconcileHostSubnets(w.ctx).catch(() => undefined);
    expect(w.executed).toEqual([]);
    expect(w.status.get('default-host-1')).toMatchObject({ status: 'False', reason: 'NetworkConflict' });
  });

  it('puts the ports still off a remade bridge back on it, with arp_notify, before up', async () => {
    const veth = (ifindex: number, name: string, mac: string, linkIndex: number, o: Partial<Link> = {}): Link =>
      ({ ifindex, name, kind: 'veth', mac, mtu: 1500, up: true, promisc: false, linkIndex, linkNetnsId: 0, ...o });
    // the batch stopped at a port that went meanwhile: br01 made, marked, the gateway on it, down
    const remadeDown: Link = { ...bridge('br01', false, bridgeAlias('default-host-1')), mac: bridgeMac('10.76.1.1') };
    const c1eth0 = veth(9, 'eth0', '02:42:0a:4c:01:02', 10);
    const c2eth0 = veth(9, 'eth0', '02:42:0a:4c:01:03', 11);
    const c1host = veth(10, 'veth1', 'aa:bb:cc:00:00:01', 9, { master: 'br01' });
    const c2host = veth(11, 'veth2', 'aa:bb:cc:00:00:02', 9);
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [{ ...made(h1, dflt), containers: 2 }], links: [remadeDown, c1host, c2host], addrs: [{ dev: 'br01', cidr: '10.76.1.1/24' }] });
    const info = (id: string) => ({ id, name: id, running: true, pid: id === 'c1' ? 101 : 102, startedAt: 't0' });
    const dp = w.ctx.dp as unknown as Record<string, unknown>;
    dp.docker = {
      networkEndpoints: async () => [{ container: 'c1', name: 'c1', ip: '10.76.1.2', mac: c1eth0.mac }, { container: 'c2', name: 'c2', ip: '10.76.1.3', mac: c2eth0.mac }],
      inspectContainer: async (id: string) => info(id),
    };
    dp.pinNetns = async (pid: number) => ({ pid, path: `/proc/self/fd/${pid}`, dev: 1, ino: pid, close: async () => undefined });
    dp.inHostNetns = async () => false;
    dp.containerState = async (t: { path?: string }) => ({ links: String(JSON.stringify(t)).includes('101') ? [c1eth0] : [c2eth0], addrs: [] });
    await reconcileHostSubnets(w.ctx);
    expect(w.executed).toEqual([
      { op: 'link.set.master', name: 'veth2', master: 'br01' },
      { op: 'sysctl.set', values: { 'net.ipv4.conf.br01.arp_notify': '1' } },
      { op: 'link.set.up', name: 'br01' },
    ]);
  });
});

describe('xnet\'s marked bridge left without a Docker network', () => {
  it('is deleted before Docker makes the network (not BridgeNameTaken): made again in the moment a docker network rm had deleted it', async () => {
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [], links: [bridge('br01', true, bridgeAlias('default-host-1'))], addrs: [] });
    await reconcileHostSubnets(w.ctx);
    expect(w.executed.map((o) => o.op)).toEqual(['link.del', 'docker.network.create', 'link.set.alias']);
    expect(w.executed[0]).toEqual({ op: 'link.del', name: 'br01' });
    expect(w.status.get('default-host-1')?.status).toBe('True');
  });

  it('is still a taken name when another HostSubnet\'s mark, or none, is on it', async () => {
    for (const alias of [bridgeAlias('other-host-1'), undefined]) {
      const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [], links: [bridge('br01', true, alias)], addrs: [] });
      await reconcileHostSubnets(w.ctx).catch(() => undefined);
      expect(w.executed).toEqual([]);
      expect(w.status.get('default-host-1')).toMatchObject({ status: 'False', reason: 'BridgeNameTaken' });
    }
  });
});

describe('a HostSubnet\'s bridge name held by a Docker network of another name that carries an io.xnet.owner label', () => {
  /** A user's network `usernet` on bridge br01 (Docker made the link), labelled io.xnet.owner=`owner`. */
  const labelled = (owner: string, containers = 0): DockerNetwork =>
    ({ ...made(h1, dflt, 'usernet'), subnet: '10.76.200.0/24', gateway: '10.76.200.1', ipRange: undefined, labels: { 'io.xnet.owner': owner }, containers });

  it('is a taken name (BridgeNameTaken) unless the label names a HostSubnet and this node made it: nothing is made, nothing removed', async () => {
    for (const owner of ['whatever', 'ClusterNetwork/default', 'MacvlanNet/default', 'HostSubnet/', 'HostSubnet/Not_A_Name', 'HostSubnet/gone-host-1']) {
      const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [labelled(owner)], links: [bridge('br01', true)], addrs: [] });
      await reconcileHostSubnets(w.ctx).catch(() => undefined);
      expect(w.executed, `labelled ${owner}`).toEqual([]);
      expect(w.status.get('default-host-1'), `labelled ${owner}`).toMatchObject({ status: 'False', reason: 'BridgeNameTaken' });
    }
  });

  it('labelled for a HostSubnet not on this node and recorded as made here, is xnet\'s network of a gone one: it holds the bridge while containers use it, then goes', async () => {
    const made = { usernet: 'HostSubnet/gone-host-1' };
    const held = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [labelled('HostSubnet/gone-host-1', 1)], links: [bridge('br01', true)], addrs: [], made });
    await reconcileHostSubnets(held.ctx);
    expect(held.executed).toEqual([]);
    expect(held.status.get('default-host-1')).toMatchObject({ status: 'False', reason: 'NetworkInUse' });
    const freed = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [labelled('HostSubnet/gone-host-1')], links: [bridge('br01', true)], addrs: [], made });
    await reconcileHostSubnets(freed.ctx);
    expect(freed.executed.map((o) => (o.op === 'docker.network.create' ? `create ${o.spec.name}` : o.op === 'docker.network.remove' ? `remove ${o.name}` : o.op)))
      .toEqual(['remove usernet', 'create net1', 'link.set.alias']);
  });
});

describe('the host end of a Docker endpoint orphaned by a deleted bridge', () => {
  const veth = (ifindex: number, name: string, mac: string, linkIndex: number, o: Partial<Link> = {}): Link =>
    ({ ifindex, name, kind: 'veth', mac, mtu: 1500, up: true, promisc: false, linkIndex, linkNetnsId: 0, ...o });
  const eth0 = veth(9, 'eth0', '02:42:0a:4c:01:80', 10);
  const hostEnd = veth(10, 'veth1234', 'aa:bb:cc:00:00:01', 9);

  it('is the host veth that is the peer of the container\'s link with the endpoint\'s MAC, and that link\'s peer in turn', () => {
    expect(endpointHostEnd('02:42:0A:4C:01:80', [eth0], [hostEnd])).toBe('veth1234');
  });
  it('is nothing that cannot be proven: another MAC, a one-sided index match, a link on a bridge, a plain device', () => {
    expect(endpointHostEnd('02:42:0a:4c:01:81', [eth0], [hostEnd])).toBeUndefined();
    expect(endpointHostEnd('', [eth0], [hostEnd])).toBeUndefined();
    expect(endpointHostEnd(eth0.mac, [eth0], [{ ...hostEnd, linkIndex: 7 }])).toBeUndefined();
    expect(endpointHostEnd(eth0.mac, [eth0], [{ ...hostEnd, master: 'br02' }])).toBeUndefined();
    expect(endpointHostEnd(eth0.mac, [eth0], [{ ...hostEnd, kind: 'bridge' }])).toBeUndefined();
    expect(endpointHostEnd(eth0.mac, [eth0, { ...eth0, ifindex: 11, name: 'eth1' }], [hostEnd])).toBeUndefined();
  });
});

describe('a node with several HostSubnets', () => {
  const aaa = cn('aaa', '10.77.0.0/16', 'aaanet');
  const a1 = hs('aaa-host-1', 'aaa', '10.77.1.0/24', 'br77');
  const refuseAaa = (o: Op) => (o.op === 'docker.network.create' && o.spec.name === 'aaanet' ? new DockerError('DockerRequestFailed', 'create network aaanet: Address already in use') : undefined);

  it('makes the others\' networks when Docker refuses one, says why on that one, and throws once at the end', async () => {
    const w = hostOf({ cns: [aaa, dflt], hostSubnets: [a1, h1], networks: [], links: [], addrs: [], refuse: refuseAaa });
    await expect(reconcileHostSubnets(w.ctx)).rejects.toMatchObject({ reason: 'DockerRequestFailed' });
    expect(w.executed.filter((o) => o.op === 'docker.network.create').map((o) => o.op === 'docker.network.create' && o.spec.name)).toEqual(['net1']);
    expect(w.status.get('aaa-host-1')).toMatchObject({ status: 'False', reason: 'DockerRequestFailed' });
    expect(w.status.get('default-host-1')?.status).toBe('True');
  });

  it('still removes a gone HostSubnet\'s network, and names every failure in one error', async () => {
    const gone = made(hs('gone-host-1', 'default', '10.76.9.0/24', 'br09'), dflt, 'oldnet');
    const refuse = (o: Op) => refuseAaa(o) ?? (o.op === 'docker.network.remove' ? new DockerError('DockerRequestFailed', 'remove network oldnet: refused') : undefined);
    const w = hostOf({ cns: [aaa, dflt], hostSubnets: [a1, h1], networks: [gone], links: [], addrs: [], refuse, made: { oldnet: 'HostSubnet/gone-host-1' } });
    const err = await reconcileHostSubnets(w.ctx).catch((e: Error) => e);
    expect(err).toBeInstanceOf(AggregateError);
    expect((err as Error).message).toMatch(/^2 HostSubnet changes failed: removing stale networks: remove network oldnet: refused; HostSubnet aaa-host-1: create network aaanet/);
    expect(w.status.get('default-host-1')?.status).toBe('True');
  });

  it('removes the network a renamed dockerNetwork leaves behind (recorded when found in place) before it makes the new one', async () => {
    const host = { networks: [made(h1, dflt)], links: [bridge('br01', true, bridgeAlias('default-host-1'))], addrs: [{ dev: 'br01', cidr: '10.76.1.1/24' }] };
    const before = hostOf({ cns: [dflt], hostSubnets: [h1], ...host });
    await reconcileHostSubnets(before.ctx);
    const renamed = cn('default', '10.76.0.0/16', 'net2');
    const w = hostOf({ cns: [renamed], hostSubnets: [h1], ...host, record: before.networks });
    await reconcileHostSubnets(w.ctx);
    expect(w.executed.map((o) => (o.op === 'docker.network.create' ? `create ${o.spec.name}` : o.op === 'docker.network.remove' ? `remove ${o.name}` : o.op)))
      .toEqual(['remove net1', 'create net2', 'link.set.alias']);
  });
});

describe('the first report on a HostSubnet', () => {
  it('is written before Docker is asked for its network (a delete meanwhile keeps the block), then Ready', async () => {
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [], links: [], addrs: [] });
    await reconcileHostSubnets(w.ctx);
    expect(w.timeline).toEqual(['report default-host-1 Unknown/CreatingNetwork', 'docker.network.create', 'link.set.alias', 'report default-host-1 True/Converged']);
  });

  it('is not written again when a network already reported on is made again (its Ready stays as it was)', async () => {
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [], links: [], addrs: [] });
    await reconcileHostSubnets(w.ctx);
    w.timeline.length = 0;
    await reconcileHostSubnets(w.ctx);
    expect(w.timeline).toEqual(['docker.network.create', 'link.set.alias', 'report default-host-1 True/Converged']);
  });
});

describe('a bridge network labelled for a HostSubnet no longer on this node', () => {
  const other = cn('other', '10.77.0.0/16', 'usernet');
  const gone = hs('gone-host-1', 'other', '10.77.1.0/24', 'br77');
  const theirs = made(gone, other);
  const removed = (ops: Op[]) => ops.flatMap((o) => (o.op === 'docker.network.remove' ? [o.name] : []));
  const host = { cns: [dflt, other], hostSubnets: [h1], links: [bridge('br01', true, bridgeAlias('default-host-1'))], addrs: [{ dev: 'br01', cidr: '10.76.1.1/24' }] };

  it('stays when this node has no record of making it (a user\'s, or xnet\'s own whose record was lost), and is named in the log once', async () => {
    const w = hostOf({ ...host, networks: [made(h1, dflt), theirs] });
    await reconcileHostSubnets(w.ctx);
    await reconcileHostSubnets(w.ctx);
    expect(removed(w.executed)).toEqual([]);
    expect(w.warnings).toEqual([expect.stringMatching(/^Docker network usernet is labelled io.xnet.owner=HostSubnet\/gone-host-1, a HostSubnet no longer on this node, but this node has no record of making it: it stays/)]);
  });

  it('under a renamed dockerNetwork of a HostSubnet still here, unrecorded: the log says its HostSubnet is here, not gone', async () => {
    // an agent before the record made oldnet for default-host-1; the ClusterNetwork's dockerNetwork is net1 now
    const w = hostOf({ ...host, networks: [{ ...made(h1, dflt), id: 'old-id', name: 'oldnet' }] });
    await reconcileHostSubnets(w.ctx).catch(() => undefined);
    expect(w.warnings.filter((m) => m.startsWith('Docker network oldnet'))).toEqual([expect.stringMatching(
      /^Docker network oldnet is labelled io.xnet.owner=HostSubnet\/default-host-1, a HostSubnet of this node whose network is named net1 now, but this node has no record of making it: it stays/)]);
  });

  it('is not taken for the one this node recorded by its name: the record holds Docker\'s network id', async () => {
    // xnet's network of gone-host-1 was removed by hand, and a user made one of the same name and label
    const w = hostOf({ ...host, networks: [made(h1, dflt), { ...theirs, id: 'another-id' }], made: { usernet: 'HostSubnet/gone-host-1' } });
    await reconcileHostSubnets(w.ctx);
    expect(removed(w.executed)).toEqual([]);
  });

  it('goes when this node recorded it as made here: found in place while its HostSubnet was here, or made by Docker for it', async () => {
    // found in place in a pass while gone-host-1 was this node's
    const before = hostOf({ ...host, hostSubnets: [h1, gone], networks: [made(h1, dflt), theirs] });
    await reconcileHostSubnets(before.ctx);
    expect(Object.fromEntries(before.networks.made())).toEqual({ net1: 'HostSubnet/default-host-1', usernet: 'HostSubnet/gone-host-1' });
    const w = hostOf({ ...host, networks: [made(h1, dflt), theirs], record: before.networks });
    await reconcileHostSubnets(w.ctx);
    expect(removed(w.executed)).toEqual(['usernet']);
    // made by Docker in this pass (asked back by name at once: the id is Docker's)
    const fresh = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [], links: [], addrs: [] });
    fresh.ctx.dp.docker.inspectNetwork = async (name: string) => (name === 'net1' ? { ...made(h1, dflt), id: 'new-id' } : undefined);
    await reconcileHostSubnets(fresh.ctx);
    expect(Object.fromEntries(fresh.networks.made())).toEqual({ 'new-id': 'HostSubnet/default-host-1' });
  });

  it('stays while the record cannot be read, and goes at a pass after it reads again (no restart)', async () => {
    // a directory where the file should be: EISDIR, which is not "absent"
    const path = join(stateDir, `networks-${records++}.json`);
    mkdirSync(path);
    let t = 0;
    const record = new NetworkRecord(path, () => undefined, { clock: () => t });
    const w = hostOf({ ...host, networks: [made(h1, dflt), theirs], record });
    await reconcileHostSubnets(w.ctx);
    expect(removed(w.executed)).toEqual([]);
    rmSync(path, { recursive: true });
    writeFileSync(path, JSON.stringify({ version: 1, networks: { usernet: 'HostSubnet/gone-host-1' } }));
    t = RETRY_FIRST_MS;
    await reconcileHostSubnets(w.ctx);
    expect(removed(w.executed)).toEqual(['usernet']);
  });

  it('is forgotten by the record once off the host; a restarted agent reads the record back from its file', async () => {
    const w = hostOf({ ...host, networks: [made(h1, dflt)], made: { usernet: 'HostSubnet/gone-host-1', net1: 'HostSubnet/default-host-1' } });
    await reconcileHostSubnets(w.ctx);
    expect(Object.fromEntries(new NetworkRecord(w.networks.path, () => undefined).made())).toEqual({ net1: 'HostSubnet/default-host-1' });
  });

  it('a network of another driver under the name a HostSubnet wants, labelled for it, is a NetworkConflict: nothing is made or removed', async () => {
    const ipvlan: DockerNetwork = { id: 'u', name: 'net1', driver: 'ipvlan' as DockerNetwork['driver'], subnet: '10.76.1.0/24', options: {}, labels: { 'io.xnet.owner': 'HostSubnet/default-host-1' }, containers: 0 };
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [ipvlan], links: [], addrs: [] });
    await reconcileHostSubnets(w.ctx);
    expect(w.executed).toEqual([]);
    expect(w.status.get('default-host-1')).toMatchObject({ status: 'False', reason: 'NetworkConflict', message: expect.stringContaining('Docker network net1 exists and is labelled io.xnet.owner=HostSubnet/default-host-1 but its driver is ipvlan') });
  });
});

describe('a bridge xnet made again, left behind by its network', () => {
  const mark = bridgeAlias('default-host-1');
  const port = (name: string, master: string, alias?: string): Link => ({ ifindex: 9, name, kind: 'veth', master, mac: '02:00:00:00:00:09', mtu: 1500, up: true, promisc: false, ...(alias ? { alias } : {}) });

  it('is deleted once its HostSubnet is gone from the node (docker network rm leaves a bridge it did not make)', async () => {
    const w = hostOf({ cns: [dflt], hostSubnets: [], networks: [], links: [bridge('br01', false, mark)], addrs: [{ dev: 'br01', cidr: '10.76.1.1/24' }] });
    await reconcileHostSubnets(w.ctx);
    expect(w.executed).toEqual([{ op: 'link.del', name: 'br01' }]);
  });

  it('is deleted when its HostSubnet\'s network is on another bridge now (it held the same subnet and gateway)', async () => {
    const w = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [made(h1, dflt)], links: [bridge('br01', true, mark), bridge('br01-1', false, mark), port('xv1', 'br01-1', 'xnet:nic:web-eth1')], addrs: [{ dev: 'br01', cidr: '10.76.1.1/24' }, { dev: 'br01-1', cidr: '10.76.1.1/24' }] });
    await reconcileHostSubnets(w.ctx);
    expect(w.executed).toEqual([{ op: 'link.del', name: 'br01-1' }]);
  });

  it('is deleted after the pass removed its network when Docker left it; not when Docker took it', async () => {
    const gone = (takes: boolean) => {
      const links = [bridge('br01', true, mark)];
      const refuse = (o: Op) => { if (takes && o.op === 'docker.network.remove') links.length = 0; return undefined; };
      return hostOf({ cns: [dflt], hostSubnets: [], networks: [made(h1, dflt)], links, addrs: [], refuse, made: { net1: 'HostSubnet/default-host-1' } });
    };
    const left = gone(false);
    await reconcileHostSubnets(left.ctx);
    expect(left.executed.map((o) => o.op)).toEqual(['docker.network.remove', 'link.del']);
    const taken = gone(true);
    await reconcileHostSubnets(taken.ctx);
    expect(taken.executed.map((o) => o.op)).toEqual(['docker.network.remove']);
  });

  it('is kept under a network waiting for the controller, with another port than xnet\'s NICs, or unmarked', async () => {
    const waiting = hostOf({ cns: [], hostSubnets: [h1], networks: [made(h1, dflt)], links: [bridge('br01', true, mark)], addrs: [] });
    await reconcileHostSubnets(waiting.ctx);
    expect(waiting.executed).toEqual([]);
    const ported = hostOf({ cns: [dflt], hostSubnets: [], networks: [], links: [bridge('br01', true, mark), port('veth1', 'br01')], addrs: [] });
    await reconcileHostSubnets(ported.ctx);
    expect(ported.executed).toEqual([]);
    const users = hostOf({ cns: [dflt], hostSubnets: [], networks: [], links: [bridge('br01', true)], addrs: [] });
    await reconcileHostSubnets(users.ctx);
    expect(users.executed).toEqual([]);
  });
});

describe('the evidence of a network this agent made', () => {
  const removed = (ops: Op[]) => ops.flatMap((o) => (o.op === 'docker.network.remove' ? [o.name] : []));

  it('is kept when a later step of the pass that made the network fails: a delete before the retry still removes it', async () => {
    const refuse = (o: Op) => (o.op === 'link.set.alias' ? new ApplyError('KernelRefused', 'ip link set br01 alias: refused') : undefined);
    const first = hostOf({ cns: [dflt], hostSubnets: [h1], networks: [], links: [], addrs: [], refuse });
    first.ctx.dp.docker.inspectNetwork = async (name: string) => (name === 'net1' ? { ...made(h1, dflt), id: 'new-id' } : undefined);
    await expect(reconcileHostSubnets(first.ctx)).rejects.toThrow(/refused/);
    // default-host-1 is deleted before the retry
    const w = hostOf({ cns: [dflt], hostSubnets: [], networks: [{ ...made(h1, dflt), id: 'new-id' }], links: [], addrs: [], record: first.networks });
    await reconcileHostSubnets(w.ctx);
    expect(removed(w.executed)).toEqual(['net1']);
  });

  it('holds for the agent\'s run when the state directory cannot be written: a HostSubnet deleted meanwhile has its network removed, and the file\'s trouble is said once', async () => {
    const notADir = join(stateDir, 'not-a-directory');
    writeFileSync(notADir, '');
    const warnings: string[] = [];
    const record = new NetworkRecord(join(notADir, 'networks.json'), (m) => warnings.push(m));
    const other = cn('other', '10.77.0.0/16', 'gonenet');
    const gone = hs('gone-host-1', 'other', '10.77.1.0/24', 'br77');
    const networks = [made(h1, dflt), made(gone, other)];
    for (let i = 0; i < 3; i++) await reconcileHostSubnets(hostOf({ cns: [dflt, other], hostSubnets: [h1, gone], networks, links: [], addrs: [], record }).ctx);
    const w = hostOf({ cns: [dflt, other], hostSubnets: [h1], networks, links: [], addrs: [], record });
    await reconcileHostSubnets(w.ctx);
    expect(removed(w.executed)).toEqual(['gonenet']);
    // not in every pass
    expect(warnings.filter((m) => m.includes('cannot write the network record'))).toHaveLength(1);
  });
});
