// A HostSubnet's Docker network with containers on it, as an operator meets it: a stopped
// container still references the network by id (Docker asks for that id at `docker start`), so
// a network made anew would strand it; and a bridge deleted by hand while containers are on
// it is made again under them, not left gone. Each heal is awaited for seconds, far below the
// agents' resync (an hour here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterNetwork } from '../../pkg/api/index.js';
import { hostDocker, hostExec } from '../../pkg/lab/index.js';
import { breakAndCheck, breakVerified, mustSucceed } from '../harness/heal.js';
import { listEvents } from '../../pkg/events/read.js';
import { agentLab, allocateNic, createDefaultNetwork, docker, eventually, inContainer, obj, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];

const netId = () => docker(h1(), ['network', 'inspect', '-f', '{{.Id}}', 'net1']);
const hostSubnetReady = () => readyCondition(lab.store, 'HostSubnet', 'default-host-1');

async function setMtu(mtu: number | undefined): Promise<void> {
  const cn = (await lab.store.get('ClusterNetwork', 'default')) as ClusterNetwork;
  const { mtu: _old, ...rest } = cn.spec;
  await lab.store.update({ ...cn, spec: mtu === undefined ? rest : { ...rest, mtu } } as ClusterNetwork);
  expect(((await lab.store.get('ClusterNetwork', 'default')) as ClusterNetwork).spec.mtu).toBe(mtu);
}

/** A container on net1 on host-1, stopped (its exit checked): it holds no endpoint, only net1's id. */
async function stoppedOnNet1(name: string): Promise<void> {
  await runContainer(h1(), name, ['--net', 'net1']);
  await docker(h1(), ['stop', '-t', '0', name]);
  expect(await docker(h1(), ['inspect', '-f', '{{.State.Running}}', name])).toBe('false');
}

beforeAll(async () => {
  lab = await agentLab(2);
  await createDefaultNetwork(lab.store, 2);
  await Promise.all(lab.hosts.map((h) => lab.startAgent(h)));
  for (const h of ['default-host-1', 'default-host-2']) {
    await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', h))?.status === 'True', `${h} Ready`, 30_000);
  }
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: a HostSubnet network that stopped containers reference', () => {
  it('is not made again for a ClusterNetwork edit (NetworkInUse, naming the stopped container), and the container starts', async () => {
    await stoppedOnNet1('s1');
    const before = await netId();
    await setMtu(1400);
    try {
      const c = await eventually(async () => { const r = await hostSubnetReady(); return r?.reason === 'NetworkInUse' ? r : undefined; }, 'NetworkInUse', 10_000)
        .catch(async (e) => { throw new Error(`${(e as Error).message}; net1 id ${before} -> ${await netId()}`); });
      expect(c.message).toContain('s1');
      expect(c.message).toMatch(/stopped/);
      expect(await netId()).toBe(before);
      mustSucceed('docker start s1', await hostDocker(h1(), ['start', 's1']));
    } finally {
      await setMtu(undefined);
    }
    await eventually(async () => (await hostSubnetReady())?.status === 'True', 'Ready again once the spec is as net1 was made', 10_000);
    expect(await netId()).toBe(before);
    await docker(h1(), ['rm', '-f', 's1']);
  }, 60_000);
});

const BRIDGE = 'br01';
const MARK = 'xnet:hostsubnet:default-host-1';

/** br01 as Docker made it and xnet marks it: up, the gateway on it, the mark; and net1 the same network (id) as `net`. */
const bridgeWhole = (net: string) => async () => {
  const r = await hostExec(h1(), ['ip', '-d', '-j', 'addr', 'show', 'dev', BRIDGE]);
  if (r.exitCode !== 0) return false;
  const [l] = JSON.parse(r.stdout) as Array<{ flags: string[]; ifalias?: string; linkinfo?: { info_kind?: string }; addr_info: Array<{ local: string; prefixlen: number }> }>;
  return l.linkinfo?.info_kind === 'bridge' && l.flags.includes('UP') && l.ifalias === MARK
    && l.addr_info.some((a) => a.local === '10.76.1.1' && a.prefixlen === 24) && (await netId()) === net;
};

/**
 * Deletes br01, proven by its ifindex gone: the agent makes the bridge again within the
 * milliseconds an `ip` preempted between its break and its probe may take, under a new ifindex.
 */
async function deleteBridge(): Promise<void> {
  const [{ ifindex }] = JSON.parse((await hostExec(h1(), ['ip', '-j', 'link', 'show', BRIDGE])).stdout) as Array<{ ifindex: number }>;
  await breakVerified((argv) => hostExec(h1(), argv), ['ip', 'link', 'del', BRIDGE], { argv: ['ip', '-o', 'link', 'show'], gone: `\n${ifindex}: ${BRIDGE}:` });
}

describe('agent: a HostSubnet bridge deleted by hand while containers are on its network', () => {
  it('makes the bridge again under the network Docker still has: a stopped container starts on it', async () => {
    await stoppedOnNet1('s2');
    const net = await netId();
    await breakAndCheck('bridge deleted under a stopped container', { whole: bridgeWhole(net), breakIt: deleteBridge });
    mustSucceed('docker start s2', await hostDocker(h1(), ['start', 's2']));
    await docker(h1(), ['rm', '-f', 's2']);
  }, 60_000);
});

describe('agent: a HostSubnet bridge deleted by hand under a running container', () => {
  const ip = (h: number, c: string) => docker(lab.hosts[h], ['inspect', '-f', '{{.NetworkSettings.Networks.net1.IPAddress}}', c]);
  const pings = async (h: number, c: string, dst: string) => (await inContainer(lab.hosts[h], c, ['ping', '-c', '1', '-W', '1', dst])).stdout.includes('1 packets received');
  /**
   * Every address answers its ping, across the hosts, both ways; run1 sends first: traffic to
   * it would make the bridge ask run1 for its MAC, which refreshes run1's entry for the gateway.
   */
  const reachable = async (run1: string, nic: string, peer: string) =>
    (await pings(0, 'run1', peer)) && (await pings(1, 'peer', run1)) && (await pings(1, 'peer', nic));
  const heals = async () => (await listEvents(lab.client, '/xnet', { kind: 'Node', name: 'host-1' })).items
    .filter((e) => e.reason === 'Healed' && e.message.startsWith('repaired HostSubnet drift')).reduce((n, e) => n + e.count, 0);

  it('makes the bridge again with the container\'s veth and its NIC on it: pings answer across hosts, the container restarts', async () => {
    await runContainer(h1(), 'run1', ['--net', 'net1']);
    await runContainer(lab.hosts[1], 'peer', ['--net', 'net1']);
    await lab.store.create(obj('ContainerNic', 'run1-eth1', { node: 'host-1', container: 'run1', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'run1-eth1', '10.76.1.90');
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', 'run1-eth1'))?.status === 'True', 'run1-eth1 Ready', 30_000);
    const [run1, peer, net] = [await ip(0, 'run1'), await ip(1, 'peer'), await netId()];
    // traffic first: run1's neighbour entry for the gateway holds the bridge's MAC, as a live container's would
    expect(await reachable(run1, '10.76.1.90', peer)).toBe(true);
    const healedBefore = await heals();
    await breakAndCheck('bridge deleted under a running container', { whole: bridgeWhole(net), breakIt: deleteBridge });
    await eventually(() => reachable(run1, '10.76.1.90', peer), 'run1 (eth0 and its NIC) and peer answering each other again', 10_000);
    expect(await heals()).toBeGreaterThan(healedBefore);
    await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', 'default-host-1'))?.status === 'True', 'default-host-1 Ready again', 10_000);
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', 'run1-eth1'))?.status === 'True', 'run1-eth1 Ready again', 10_000);
    // Docker finds the bridge by name when it attaches the restarted container
    mustSucceed('docker restart run1', await hostDocker(h1(), ['restart', '-t', '0', 'run1']));
    expect(await netId()).toBe(net);
    await eventually(async () => (await pings(1, 'peer', await ip(0, 'run1'))) && (await pings(1, 'peer', '10.76.1.90')), 'run1 and its NIC answering after the restart', 10_000);
  }, 120_000);
});

describe('agent: a HostSubnet bridge given another MTU by hand', () => {
  const mtuOf = async () => (JSON.parse((await hostExec(h1(), ['ip', '-j', 'link', 'show', BRIDGE])).stdout) as Array<{ mtu: number }>)[0]?.mtu;

  it('gets its network\'s MTU back (1500, Docker\'s and the ClusterNetwork\'s)', async () => {
    expect(await docker(h1(), ['network', 'inspect', '-f', '{{index .Options "com.docker.network.driver.mtu"}}', 'net1'])).toBe('1500');
    await breakAndCheck('bridge MTU lowered by hand', {
      whole: async () => (await mtuOf()) === 1500,
      breakIt: () => breakVerified((argv) => hostExec(h1(), argv), ['ip', 'link', 'set', BRIDGE, 'mtu', '1280'], { argv: ['ip', '-o', 'link', 'show', BRIDGE], gone: 'mtu 1500 ' }),
    });
  }, 60_000);
});

// A bridge renamed by hand (`ip link set br01 name brx`) keeps its ports, its gateway, its
// connected route and xnet's mark. Seen in a lab: the agent took it for deleted and made a second
// br01 with the same gateway beside it; the host's route to the subnet went to brx, the NIC's
// veth to the new br01, and traffic to the NIC stopped while the HostSubnet and `xctl verify`
// said all was well. It is the same bridge: it gets its name back, with everything on it.
describe('agent: a HostSubnet bridge renamed by hand under a running container', () => {
  const connectedRoutes = async () => (await hostExec(h1(), ['ip', '-o', 'route', 'show', '10.76.1.0/24'])).stdout.trim().split('\n').filter(Boolean);

  it('gets its name back, ports and all: one bridge with the gateway, and the NIC answers', async () => {
    await runContainer(h1(), 'ren1', ['--net', 'net1']);
    await lab.store.create(obj('ContainerNic', 'ren1-eth1', { node: 'host-1', container: 'ren1', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'ren1-eth1', '10.76.1.91');
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', 'ren1-eth1'))?.status === 'True', 'ren1-eth1 Ready', 30_000);
    const net = await netId();
    const [{ ifindex }] = JSON.parse((await hostExec(h1(), ['ip', '-j', 'link', 'show', BRIDGE])).stdout) as Array<{ ifindex: number }>;
    await breakAndCheck('bridge renamed under a running container', {
      whole: async () => (await bridgeWhole(net)()) && (await connectedRoutes()).length === 1,
      breakIt: () => breakVerified((argv) => hostExec(h1(), argv), ['sh', '-c', `ip link set ${BRIDGE} down && ip link set ${BRIDGE} name brx && ip link set brx up`], { argv: ['ip', '-o', 'link', 'show'], gone: `\n${ifindex}: ${BRIDGE}:` }),
    });
    // the same link under its own name: no second bridge, brx gone
    const [after] = JSON.parse((await hostExec(h1(), ['ip', '-j', 'link', 'show', BRIDGE])).stdout) as Array<{ ifindex: number }>;
    expect(after.ifindex).toBe(ifindex);
    expect((await hostExec(h1(), ['ip', 'link', 'show', 'brx'])).exitCode).not.toBe(0);
    expect(await connectedRoutes()).toEqual([expect.stringMatching(/^10\.76\.1\.0\/24 dev br01 /)]);
    await eventually(async () => (await hostExec(h1(), ['ping', '-c', '1', '-W', '1', '10.76.1.91'])).exitCode === 0 || undefined, 'the NIC answering the host', 10_000);
    await docker(h1(), ['rm', '-f', 'ren1']);
  }, 90_000);
});
