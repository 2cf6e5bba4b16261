// A host's life cycle in a running cluster, as an operator runs it (real etcd with auth, the
// controller, an agent per lab host, a dockerd per host): the host leaves (agent stopped,
// `xctl delete node`) and comes back; its agent comes back on another underlay address; a
// ClusterNetwork's nodeSelector stops and starts matching it. After each step the test checks
// what a user would: HostSubnets and claims in etcd, `xctl get`, the peers' routes, Docker's
// networks on the host, and a ping between containers on the two hosts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReady, type ContainerNic, type HostSubnet, type Node } from '../../pkg/api/index.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { parseCidr } from '../../pkg/ip/ipv4.js';
import { agentLabWithController, docker, downWithController, eventually, inContainer, obj, routes, runContainer, sh, labXctl, type AgentLab } from './agent-harness.js';
import type { LabHost } from '../../pkg/lab/index.js';

let lab: AgentLab;
let controller: Controller | undefined;
const cnDoc = obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24, reserved: ['10.76.0.0/24'], dockerNetwork: 'net1' });

beforeAll(async () => {
  ({ lab, controller } = await agentLabWithController(2));
  await lab.store.applyAll([cnDoc]);
  for (const h of lab.hosts) await lab.startAgent(h);
}, 240_000);

afterAll(() => downWithController(lab, controller), 120_000);

const xctl = (args: string[]) => labXctl(lab, args);

const hsOf = async (cn: string, node: string) => (await lab.store.get('HostSubnet', `${cn}-${node}`)) as HostSubnet | undefined;
const readyHs = (cn: string, node: string, what = `${cn}-${node} Ready`) =>
  eventually(async () => { const h = await hsOf(cn, node); return h && isReady(h) && h.status?.subnet ? h : undefined; }, what, 30_000);
/** host i's xnet routes (proto 76) inside `prefix` (e.g. '10.76.') */
const xnetRoutes = async (i: number, prefix: string) => (await routes(lab.hosts[i])).filter((r) => r.protocol === '76' && r.dst.startsWith(prefix));
const networks = async (i: number) => (await docker(lab.hosts[i], ['network', 'ls', '--format', '{{.Name}}'])).split('\n');
const ipOf = async (i: number, container: string, net: string) => docker(lab.hosts[i], ['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, container]);
/** the container, on `net`, made when missing (a journey may run on its own) */
const ensureContainer = async (i: number, name: string, net: string) => {
  if (!(await docker(lab.hosts[i], ['ps', '-a', '--format', '{{.Names}}'])).split('\n').includes(name)) await runContainer(lab.hosts[i], name, ['--net', net]);
};
const pings = async (i: number, container: string, ip: string) => (await inContainer(lab.hosts[i], container, ['ping', '-c', '1', '-W', '1', ip])).stdout.includes('1 packets received');

/** whether the block claim of `subnet` (a ClusterNetwork default's HostSubnet) is in etcd */
const claimed = async (subnet: string) => (await lab.client.get(new IpamKeys('/xnet').claim('clusternetworks', 'default', 'blocks', parseCidr(subnet).base))) !== null;

/** NIC n2-eth1 Ready with an address in `subnet` (a /24) */
const readyNic = (subnet: string) => eventually(async () => {
  const n = await lab.store.get('ContainerNic', 'n2-eth1') as ContainerNic | undefined;
  return n && isReady(n) && String(n.status?.ip).startsWith(subnet.replace(/0\/24$/, '')) ? n : undefined;
}, `NIC n2-eth1 Ready in ${subnet}`, 30_000);

/** each host routes the other's subnet of `cn` via the other's underlay address, and nothing else of it */
async function routedBothWays(cn: string, prefix: string): Promise<void> {
  const [a, b] = [await readyHs(cn, 'host-1'), await readyHs(cn, 'host-2')];
  for (const [i, peer] of [[0, b], [1, a]] as const) {
    await eventually(async () => {
      const r = await xnetRoutes(i, prefix);
      return r.length === 1 && r[0].dst === peer.status!.subnet && r[0].gateway === peer.status!.nodeAddress || undefined;
    }, `host-${i + 1} routes ${peer.status!.subnet} via ${peer.status!.nodeAddress}`, 15_000);
  }
}

describe('a host leaves the cluster and comes back', () => {
  it('agent stopped and `xctl delete node`: its HostSubnet and claim go, the peer drops its route within seconds; restarted, it gets a subnet again and containers ping across', async () => {
    await routedBothWays('default', '10.76.');
    const before = await readyHs('default', 'host-2');
    // a container with an extra NIC on host-2's subnet
    await runContainer(lab.hosts[1], 'n2');
    await lab.store.applyAll([obj('ContainerNic', 'n2-eth1', { node: 'host-2', container: 'n2', ifName: 'eth1', network: { clusterNetwork: 'default' } })]);
    await readyNic(String(before.status!.subnet));
    expect(await claimed(String(before.status!.subnet))).toBe(true);
    await lab.stopAgent(lab.hosts[1]);
    // its NIC holds it (xctl refuses the delete, exit 3): taken out with it all the same, to be renumbered
    expect((await xctl(['delete', 'node', 'host-2'])).err).toContain('node/host-2 is in use by 1 ContainerNic (n2-eth1)');
    const del = await xctl(['delete', 'node', 'host-2', '--force']);
    expect(del.code, del.err).toBe(0);
    expect(del.err).toContain('warning: node/host-2 is in use by 1 ContainerNic (n2-eth1): they lose their addresses');
    // what the docs promise: the HostSubnet made for it deleted, its block freed, peers stop routing to it
    await eventually(async () => !(await hsOf('default', 'host-2')) || undefined, 'HostSubnet default-host-2 deleted', 10_000);
    // "within seconds" is each wait's bound (the agents' resync is an hour away), not a clock
    // read after it: a last poll begun inside the bound and answered after it passed
    await eventually(async () => (await xnetRoutes(0, '10.76.')).length === 0 || undefined, 'host-1 drops its route to host-2', 10_000);
    await eventually(async () => !(await claimed(String(before.status!.subnet))) || undefined, `the claim of ${before.status!.subnet} deleted`, 10_000);
    const r = await ipamCheck(lab.client, '/xnet');
    expect(r.problems, r.text).toBe(0);
    // the NIC stays, its address released with the block
    await eventually(async () => { const n = await lab.store.get('ContainerNic', 'n2-eth1') as ContainerNic | undefined; return n && !n.status?.ip || undefined; }, 'NIC n2-eth1 without an address', 10_000);
    const gone = await xctl(['get', 'node']);
    expect(gone.out).not.toMatch(/^host-2\b/m);
    expect((await xctl(['get', 'hs'])).out).not.toContain('host-2');
    // the same host comes back: its agent is started again and re-registers
    await lab.startAgent(lab.hosts[1]);
    await eventually(async () => { const n = await lab.store.get('Node', 'host-2') as Node | undefined; return n && isReady(n) ? n : undefined; }, 'host-2 made again and Ready', 30_000);
    await routedBothWays('default', '10.76.');
    await runContainer(lab.hosts[0], 'c1', ['--net', 'net1']);
    await runContainer(lab.hosts[1], 'c2', ['--net', 'net1']);
    const ip2 = await ipOf(1, 'c2', 'net1');
    const hs2 = await readyHs('default', 'host-2');
    expect(ip2.startsWith(String(hs2.status!.subnet).replace(/0\/24$/, ''))).toBe(true);
    await eventually(async () => await pings(0, 'c1', ip2) || undefined, `c1 on host-1 pings c2 (${ip2}) on host-2`, 20_000);
    // the NIC is back in its container with an address of the host's subnet, reached from host-1
    const nic = await readyNic(String(hs2.status!.subnet));
    expect((await inContainer(lab.hosts[1], 'n2', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).stdout).toContain(`${nic.status!.ip}/24`);
    await eventually(async () => await pings(0, 'c1', String(nic.status!.ip)) || undefined, `c1 on host-1 pings NIC n2-eth1 (${nic.status!.ip})`, 20_000);
    expect((await xctl(['get', 'node'])).out).toMatch(/^host-2\b/m);
    const r2 = await ipamCheck(lab.client, '/xnet');
    expect(r2.problems, r2.text).toBe(0);
  }, 120_000);
});

/** Moves a lab host's underlay to `addr` (the lab's /24, its gateway .1), checked before anything relies on it. */
async function readdress(h: LabHost, addr: string): Promise<void> {
  await sh(h, ['ip', 'addr', 'flush', 'dev', h.iface]);
  await sh(h, ['ip', 'addr', 'add', `${addr}/${h.prefixLength}`, 'dev', h.iface]);
  await sh(h, ['ip', 'route', 'replace', 'default', 'via', '198.18.0.1', 'dev', h.iface]);
  expect(await sh(h, ['ip', '-4', '-o', 'addr', 'show', 'dev', h.iface])).toContain(`${addr}/`);
}

/** host-2 at `addr`: its Node reports it and host-1 routes host-2's subnet via it. */
async function peersRouteVia(addr: string): Promise<void> {
  await eventually(async () => { const n = await lab.store.get('Node', 'host-2') as Node | undefined; return n?.status?.address === addr || undefined; }, `Node host-2 reports ${addr}`, 15_000);
  const hs2 = await readyHs('default', 'host-2');
  await eventually(async () => {
    const r = await xnetRoutes(0, '10.76.');
    return r.length === 1 && r[0].dst === hs2.status!.subnet && r[0].gateway === addr || undefined;
  }, `host-1 routes ${hs2.status!.subnet} via ${addr}`, 15_000);
}

/** Both hosts routed to each other, c1 on host-1 and c2 on host-2 on net1; host-2. */
async function c1AndC2Routed(): Promise<LabHost> {
  await routedBothWays('default', '10.76.');
  await ensureContainer(0, 'c1', 'net1');
  await ensureContainer(1, 'c2', 'net1');
  return lab.hosts[1];
}

async function c1PingsC2(): Promise<void> {
  const ip2 = await ipOf(1, 'c2', 'net1');
  await eventually(async () => await pings(0, 'c1', ip2) || undefined, `c1 on host-1 pings c2 (${ip2}) on host-2`, 20_000);
}

describe('a host whose underlay address changes', () => {
  it('its agent restarted on another address: the Node reports it, peers route via it within seconds, containers ping across', async () => {
    const h2 = await c1AndC2Routed();
    await lab.stopAgent(h2);
    await readdress(h2, '198.18.0.42');
    await lab.startAgent(h2);
    // within seconds: peersRouteVia's waits are the bound, the agents' resync an hour away
    await peersRouteVia('198.18.0.42');
    expect((await lab.store.get('HostSubnet', 'default-host-2'))?.status?.nodeAddress).toBe('198.18.0.42');
    expect((await xctl(['get', 'node', 'host-2'])).out).toMatch(/^host-2\s+198\.18\.0\.42\s/m);
    expect((await xctl(['get', 'hs', 'default-host-2', '-o', 'wide'])).out).toMatch(/^default-host-2\s.*\s198\.18\.0\.42(\s|$)/m);
    await c1PingsC2();
  }, 90_000);
});
describe('a host whose underlay address changes while its agent runs', () => {
  it('no restart: the Node reports the new address, peers route via it within seconds, containers ping across', async () => {
    const h2 = await c1AndC2Routed();
    const was = (await lab.store.get('Node', 'host-2') as Node | undefined)?.status?.address;
    const next = was === '198.18.0.43' ? '198.18.0.44' : '198.18.0.43';
    await readdress(h2, next);
    await peersRouteVia(next);
    await c1PingsC2();
  }, 90_000);
});

describe('a ClusterNetwork whose nodeSelector stops matching a host', () => {
  const sel = obj('ClusterNetwork', 'sel', { cidr: '10.77.0.0/16', hostPrefix: 24, dockerNetwork: 'net2', nodeSelector: { matchLabels: { net2: 'yes' } } });
  const label = async (node: string, labels: Record<string, string>) => {
    const n = await lab.store.get('Node', node);
    await lab.store.update({ ...n!, metadata: { ...n!.metadata, labels } });
  };

  it('label removed: its HostSubnet goes, peers drop the route, its Docker network goes once no container uses it; label back: all of it returns and containers ping across', async () => {
    await label('host-1', { net2: 'yes' });
    await label('host-2', { net2: 'yes' });
    await lab.store.applyAll([sel]);
    await routedBothWays('sel', '10.77.');
    await eventually(async () => (await networks(1)).includes('net2') || undefined, 'host-2 has Docker network net2', 15_000);
    await runContainer(lab.hosts[0], 's1', ['--net', 'net2']);
    await runContainer(lab.hosts[1], 's2', ['--net', 'net2']);
    await label('host-2', {});
    await eventually(async () => !(await hsOf('sel', 'host-2')) || undefined, 'HostSubnet sel-host-2 deleted', 10_000);
    await eventually(async () => (await xnetRoutes(0, '10.77.')).length === 0 || undefined, 'host-1 drops its route to host-2 on sel', 10_000);
    expect((await xctl(['get', 'hs'])).out).not.toContain('sel-host-2');
    const r = await ipamCheck(lab.client, '/xnet');
    expect(r.problems, r.text).toBe(0);
    // a container still on it keeps Docker's network on the host; it goes when the container does
    expect(await networks(1)).toContain('net2');
    await docker(lab.hosts[1], ['rm', '-f', 's2']);
    await eventually(async () => !(await networks(1)).includes('net2') || undefined, 'host-2 removes Docker network net2 once s2 is gone', 15_000);
    // and back
    await label('host-2', { net2: 'yes' });
    await routedBothWays('sel', '10.77.');
    await eventually(async () => (await networks(1)).includes('net2') || undefined, 'host-2 has Docker network net2 again', 15_000);
    await runContainer(lab.hosts[1], 's2', ['--net', 'net2']);
    const ip2 = await ipOf(1, 's2', 'net2');
    await eventually(async () => await pings(0, 's1', ip2) || undefined, `s1 on host-1 pings s2 (${ip2}) on host-2`, 20_000);
  }, 120_000);

  it('label removed and put back while a container stays on the network: the block is kept for the host (its network still holds it), so it gets it back and the container is reached again', async () => {
    await routedBothWays('sel', '10.77.');
    await ensureContainer(0, 's1', 'net2');
    await ensureContainer(1, 's2', 'net2');
    const before = await readyHs('sel', 'host-2');
    const ip2 = await ipOf(1, 's2', 'net2');
    await eventually(async () => await pings(0, 's1', ip2) || undefined, `s1 pings s2 (${ip2})`, 20_000);
    await label('host-2', {});
    await eventually(async () => !(await hsOf('sel', 'host-2')) || undefined, 'HostSubnet sel-host-2 deleted', 10_000);
    await eventually(async () => (await xnetRoutes(0, '10.77.')).length === 0 || undefined, 'host-1 drops its route to host-2 on sel', 10_000);
    expect(await pings(0, 's1', ip2)).toBe(false);
    await label('host-2', { net2: 'yes' });
    const after = await readyHs('sel', 'host-2');
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(after.status!.subnet).toBe(before.status!.subnet);
    await routedBothWays('sel', '10.77.');
    expect(await ipOf(1, 's2', 'net2')).toBe(ip2);
    await eventually(async () => await pings(0, 's1', ip2) || undefined, `s1 on host-1 pings s2 (${ip2}) again`, 20_000);
  }, 90_000);
});
