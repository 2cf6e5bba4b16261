// The agent as users run it (the xnet-agent command) restarted under live traffic, and etcd
// going away: the dataplane must not move in either case.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcdServer } from '../../pkg/etcd/server.js';
import { startDockerd, stopDockerd, type LabHost } from '../../pkg/lab/index.js';
import { Keys } from '../../pkg/store/keys.js';
import { HEAL_TEST_RESYNC_S } from '../harness/heal.js';
import { agentLab, allocateNic, createDefaultNetwork, docker, eventually, inContainer, inContainerNetns, obj, readyCondition, routes, runContainer, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
let child: ChildProcess | undefined;
let childLog = '';

const AGENT_BIN = resolve('dist/cmd/xnet-agent.js');

/** Runs the built xnet-agent, as a user would; resolves once its first pass is done. */
async function startAgentCommand(h: LabHost): Promise<ChildProcess> {
  childLog = '';
  // with the host's own certificate (node-<name>), as a real installation runs it
  const p = spawn(process.execPath, [AGENT_BIN, '--node', h.name, ...(await lab.agentArgs(h.name)), '--netns', h.netns, '--docker-host', h.dockerHost, '--resync', String(HEAL_TEST_RESYNC_S)], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, XNET_LOG_LEVEL: 'info' },
  });
  p.stderr!.on('data', (d) => { childLog += String(d); });
  await eventually(async () => childLog.includes('first pass done') || (p.exitCode !== null && Promise.reject(new Error(`agent exited ${p.exitCode}: ${childLog}`))), 'agent command first pass', 60_000);
  return p;
}

async function stopAgentCommand(p: ChildProcess): Promise<number | null> {
  if (p.exitCode !== null) return p.exitCode;
  const done = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  p.kill('SIGTERM');
  return done;
}

const getReady = (o: Awaited<ReturnType<AgentLab['store']['get']>>) => o?.status?.conditions?.find((c) => c.type === 'Ready')?.status;

const snapshot = async (h: LabHost) => ({
  routes: await sh(h, ['ip', '-4', 'route', 'show']),
  links: (await sh(h, ['ip', '-o', 'link', 'show'])).replace(/\s+/g, ' '),
  nat: (await sh(h, ['iptables-save', '-t', 'nat'])).split('\n').filter((l) => !l.startsWith('#')).join('\n'),
  filter: (await sh(h, ['iptables-save', '-t', 'filter'])).split('\n').filter((l) => !l.startsWith('#')).join('\n'),
  net1: await docker(h, ['network', 'inspect', '-f', '{{.Id}}', 'net1']),
  // the NIC inside its container: links (mark, MAC, state), addresses and routes
  nic: (await inContainerNetns(h, 'test', ['sh', '-c', 'ip -o -d link show; ip -o addr show; ip route show'])).stdout.replace(/\s+/g, ' '),
});

beforeAll(async () => {
  if (!existsSync(AGENT_BIN)) throw new Error(`${AGENT_BIN} is missing: run "npx tsc -p tsconfig.json" (the test command builds it) first`);
  lab = await agentLab(2);
  await createDefaultNetwork(lab.store);
  await lab.store.create(obj('ContainerNic', 'test-eth1', { node: 'host-1', container: 'test', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
  await allocateNic(lab.store, 'test-eth1', '10.76.1.84');
  await lab.startAgent(lab.hosts[1]);
  child = await startAgentCommand(lab.hosts[0]);
  await runContainer(lab.hosts[0], 'ca', ['--net', 'net1', '--ip', '10.76.1.83']);
  await runContainer(lab.hosts[0], 'test');
  await runContainer(lab.hosts[1], 'cb', ['--net', 'net1', '--ip', '10.76.2.83']);
  await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', 'test-eth1'))?.status === 'True', 'NIC Ready');
}, 240_000);

afterAll(async () => {
  if (child) await stopAgentCommand(child);
  await lab?.down();
}, 120_000);

describe('agent: restarts and etcd outages leave the dataplane alone', () => {
  it('restarts under a running ping without losing a single packet, adopting everything', async () => {
    const [h1, h2] = lab.hosts;
    const before = await snapshot(h1);
    // 60 pings 100 ms apart to a container and to the xnet NIC, across hosts, during the restart.
    const pings = Promise.all(['10.76.1.83', '10.76.1.84'].map((ip) => inContainer(h2, 'cb', ['ping', '-i', '0.1', '-c', '60', '-W', '1', ip])));
    await new Promise((r) => setTimeout(r, 500));
    expect(await stopAgentCommand(child!)).toBe(0);
    // docs/agent.md: "SIGTERM stops it gracefully; the dataplane is left exactly as it is".
    // Read while no agent runs: a stop that took something away would otherwise be hidden by
    // the restarted agent putting it back (NAT chains, say, which pings in flight never need).
    expect(await snapshot(h1), 'the dataplane while the agent is stopped').toEqual(before);
    // "The lease is not revoked on SIGTERM": the node's report (bound to it) outlives the stop
    const report = new Keys('/xnet').status('Node', h1.name, { node: h1.name });
    expect((await lab.client.get(report).exec()).kvs, 'host-1\'s report while its agent is stopped').toHaveLength(1);
    child = await startAgentCommand(h1);
    const results = await pings;
    for (const r of results) expect(r.stdout).toContain('60 packets transmitted, 60 packets received, 0% packet loss');
    expect(childLog).not.toMatch(/info \[agent\] (routes|nic|host subnet network|nat|macvlan) /);
    expect(await snapshot(h1)).toEqual(before);
  }, 60_000);

  it('keeps its Node when restarted within the lease TTL: same object, Ready throughout, status on the new lease', async () => {
    // host-2's agent runs in this process: its restart takes a moment, where a new node process
    // on this loaded machine can take longer than the 10 s lease, and then the Node does expire.
    const [, h2] = lab.hosts;
    const statusKey = new Keys('/xnet').status('Node', 'host-2', { node: 'host-2' });
    const leaseOf = async () => (await lab.client.get(statusKey).exec()).kvs[0]?.lease;
    const node = () => lab.store.get('Node', 'host-2');
    const uid = (await node())?.metadata.uid;
    const oldLease = await leaseOf();
    expect(uid).toBeTruthy();
    expect(oldLease).toBeTruthy();
    // Watch the Node as a peer or the controller would, all through the restart.
    const seen: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const [n, lease] = await Promise.all([node(), leaseOf()]);
        const ready = getReady(n);
        if (!n || n.metadata.uid !== uid || ready !== 'True' || !lease) seen.push(`uid ${n?.metadata.uid} Ready ${ready} lease ${lease}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const t0 = Date.now();
    await lab.stopAgent(h2);
    await lab.startAgent(h2);
    const restartMs = Date.now() - t0;
    await eventually(async () => { const l = await leaseOf(); return l && l !== oldLease; }, 'status written under the new agent\'s lease', 10_000);
    watching = false;
    await watcher;
    expect(seen, `the Node as seen during the restart (${restartMs} ms; the lease lasts 10 s)`).toEqual([]);
    expect((await node())?.metadata.uid).toBe(uid);
  });

  it('leaves no watcher behind when the agent is killed outright (SIGKILL)', async () => {
    const [h1] = lab.hosts;
    const childrenOf = (ppid: number) => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
      try { return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === ppid; } catch { return false; }
    });
    const watchers = childrenOf(child!.pid!);
    // ip monitor and nft monitor of the host, ip monitor of the container holding the NIC
    expect(watchers.length).toBeGreaterThanOrEqual(3);
    const gone = new Promise((r) => child!.once('exit', r));
    child!.kill('SIGKILL');
    await gone;
    await eventually(async () => watchers.every((pid) => !existsSync(`/proc/${pid}`)), 'watchers ended with the agent', 10_000);
    child = await startAgentCommand(h1);
  });

  it('keeps routes and rules exactly as they are while etcd is down, and follows changes again once it is back', async () => {
    const [h1, h2] = lab.hosts;
    const before = await snapshot(h1);
    const [member] = lab.etcd.members;
    await member.stop();
    // Long enough for the heartbeat lease to expire and for watches and heartbeats to fail.
    await new Promise((r) => setTimeout(r, 12_000));
    expect(await snapshot(h1)).toEqual(before);
    expect((await inContainer(h2, 'cb', ['ping', '-c', '2', '-W', '2', '10.76.1.84'])).stdout).toContain('2 packets received');

    lab.etcd.members[0] = await startEtcdServer({ dataDir: lab.etcd.dataDir, name: member.name, clientPort: member.clientPort, peerPort: member.peerPort, tls: lab.etcd.tls });
    expect(await snapshot(h1)).toEqual(before);
    // The agents follow the store again: a peer's HostSubnet going away takes its route along.
    await eventually(async () => (await readyCondition(lab.store, 'Node', 'host-1'))?.status === 'True', 'heartbeat back', 30_000);
    await lab.store.delete('HostSubnet', 'default-host-2');
    await eventually(async () => !(await routes(h1)).some((r) => r.dst === '10.76.2.0/24'), 'route removed after etcd came back', 30_000);
  }, 90_000);

  it('says DockerUnavailable while the Docker daemon is down, and converges again when it is back', async () => {
    const [h1] = lab.hosts;
    const hsReady = () => readyCondition(lab.store, 'HostSubnet', 'default-host-1');
    const nicReady = () => readyCondition(lab.store, 'ContainerNic', 'test-eth1');
    await stopDockerd(h1);
    await eventually(async () => (await hsReady())?.reason === 'DockerUnavailable', 'HostSubnet DockerUnavailable', 20_000);
    await startDockerd(h1);
    await eventually(async () => (await hsReady())?.status === 'True', 'HostSubnet Ready again', 30_000);
    // The daemon's stop took the containers down; the NIC says so, and returns with its container.
    await eventually(async () => (await nicReady())?.reason === 'ContainerNotRunning', 'NIC ContainerNotRunning', 20_000);
    await docker(h1, ['start', 'test']);
    await eventually(async () => (await nicReady())?.status === 'True', 'NIC Ready again', 30_000);
    expect((await inContainer(h1, 'test', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).stdout).toContain('10.76.1.84/24');
  }, 120_000);
});
