// A restarted container's veth NIC (chaos fault 7, docs/faults.md): the agent takes back the
// Ready it reported for the container's previous life before it makes the NIC again, and a NIC
// left half-made (the container end moved in under its temporary name, not renamed, no
// address) is made whole in one reconcile, not after a failed one.
//
// The agent is stopped across each break, so that the state the agent finds when it starts is
// exactly the one made here (a live agent would race the break); what it does then comes from
// its start-up pass alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerNic } from '../../pkg/api/index.js';
import { listEvents } from '../../pkg/events/read.js';
import { tempName, vethHostName } from '../../pkg/agent/planner/names.js';
import { mustSucceed } from '../harness/heal.js';
import { hostDocker, hostExec } from '../../pkg/lab/index.js';
import { agentLab, allocateNic, createDefaultNetwork, docker, eventually, inContainer, inContainerNetns, obj, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const NIC = 'side-eth1';
const IP = '10.76.1.85';

const ready = () => readyCondition(lab.store, 'ContainerNic', NIC);
const host1 = () => lab.hosts[0];
const sideLinks = async () => (await inContainerNetns(host1(), 'side', ['ip', '-o', 'link', 'show'])).stdout;
const sideAddrs = async () => (await inContainerNetns(host1(), 'side', ['ip', '-o', '-4', 'addr', 'show'])).stdout;
const container = async () => {
  const [id, startedAt] = (await docker(host1(), ['inspect', '-f', '{{.Id}} {{.State.StartedAt}}', 'side'])).split(' ');
  return { id, startedAt: Date.parse(startedAt) };
};

/** The NIC as a user checks it: in the container with its address, answering a ping from the other host. */
async function nicWhole(): Promise<void> {
  expect(await sideAddrs()).toContain(`${IP}/24`);
  expect((await inContainer(lab.hosts[1], 'peer', ['ping', '-c', '1', '-W', '2', IP])).stdout).toContain('1 packets received');
}

/** Restarts `side` with host-1's agent stopped and proves the NIC went with its old namespace. */
async function restartWithAgentStopped(): Promise<void> {
  await lab.stopAgent(host1());
  const before = await container();
  mustSucceed('docker restart', await hostDocker(host1(), ['restart', '-t', '0', 'side']));
  const after = await container();
  expect(after.startedAt).toBeGreaterThan(before.startedAt);
  // docker restart keeps the container's id: status.containerId alone cannot tell the two lives apart
  expect(after.id).toBe(before.id);
  expect(await sideAddrs()).not.toContain(IP);
  expect((await ready())?.status, 'the Ready of the NIC\'s previous life, left by the stopped agent').toBe('True');
}

beforeAll(async () => {
  lab = await agentLab(2);
  await createDefaultNetwork(lab.store);
  await Promise.all(lab.hosts.map((h) => lab.startAgent(h)));
  await runContainer(lab.hosts[0], 'side', ['--net', 'net1']);
  await runContainer(lab.hosts[1], 'peer', ['--net', 'net1', '--ip', '10.76.2.83']);
  await lab.store.create(obj('ContainerNic', NIC, { node: 'host-1', container: 'side', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
  await allocateNic(lab.store, NIC, IP);
  await eventually(async () => (await ready())?.status === 'True', 'Ready');
  await nicWhole();
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: a restarted container\'s veth NIC', () => {
  it('reports Ready for the new container only once the NIC is in it (not the Ready of its previous life)', async () => {
    await restartWithAgentStopped();
    await lab.startAgent(host1());
    await eventually(async () => (await sideAddrs()).includes(`${IP}/24`), 'NIC back in the restarted container', 20_000);
    await nicWhole();
    const now = await container();
    const r = await eventually(async () => { const c = await ready(); return c?.status === 'True' ? c : undefined; }, 'Ready', 10_000);
    // Ready became True after the container's start: a reader comparing the two knows it is this life's
    expect(Date.parse(r.lastTransitionTime!), `Ready's lastTransitionTime ${r.lastTransitionTime} against the container's start`).toBeGreaterThanOrEqual(now.startedAt);
    expect(((await lab.store.get('ContainerNic', NIC)) as ContainerNic).status?.containerId).toBe(now.id);
  }, 120_000);

  it('makes a NIC left under its temporary name in the container whole in its first reconcile', async () => {
    await restartWithAgentStopped();
    // What an attempt stopped between the move and the rename leaves: the pair made, the host
    // end on the bridge and up, the container end moved in under its temporary name.
    const hv = vethHostName(NIC);
    const tmp = tempName(NIC);
    const pid = await docker(host1(), ['inspect', '-f', '{{.State.Pid}}', 'side']);
    const sh = (argv: string[]) => hostExec(host1(), argv).then((x) => mustSucceed(argv.join(' '), x));
    // The previous pair goes with the container's old namespace, which the kernel destroys in
    // the background, one namespace after another for the whole machine: with other tests'
    // namespaces going too it once took more than 20 s. Deleted here instead (or gone already).
    await hostExec(host1(), ['ip', 'link', 'del', hv]);
    await eventually(async () => !(await hostExec(host1(), ['ip', '-o', 'link', 'show'])).stdout.includes(`${hv}@`), 'the old pair gone', 20_000);
    await sh(['ip', 'link', 'add', hv, 'type', 'veth', 'peer', 'name', tmp]);
    // marked as the agent marks both ends before the move (planner/nic.ts)
    for (const l of [hv, tmp]) await sh(['ip', 'link', 'set', l, 'alias', `xnet:nic:${NIC}`]);
    await sh(['ip', 'link', 'set', hv, 'master', 'br01', 'up']);
    await sh(['ip', 'link', 'set', tmp, 'netns', pid]);
    expect(await sideLinks()).toContain(`${tmp}@`);
    expect(await sideLinks()).not.toMatch(/ eth1@/);
    const started = new Date().toISOString();
    await lab.startAgent(host1());
    await eventually(async () => (await sideAddrs()).includes(`${IP}/24`), 'NIC whole', 20_000);
    await nicWhole();
    expect(await sideLinks()).not.toContain(tmp);
    expect((await ready())?.status).toBe('True');
    // `xctl get events --for containernic/side-eth1`: no reconcile of it failed on the way
    // (one that planned to delete the temporary name after its peer had taken it along did)
    const { items } = await listEvents(lab.client, '/xnet', { kind: 'ContainerNic', name: NIC });
    const failed = items.filter((e) => e.type === 'Warning' && e.lastTimestamp >= started);
    expect(failed.map((e) => `${e.reason}: ${e.message}`)).toEqual([]);
  }, 120_000);

  it('collects the host links of a NIC gone while it was stopped, and never a link of that name pattern without the mark', async () => {
    await lab.stopAgent(host1());
    const sh = (argv: string[]) => hostExec(host1(), argv).then((x) => mustSucceed(argv.join(' '), x));
    // the host's own links that happen to match xnet's name pattern: no mark, or another NIC's
    // (made first: one clean-up batch goes in ifindex order, so they come before the pair below)
    const [own, other] = [vethHostName('admin-uplink'), tempName('admin-uplink')];
    await sh(['ip', 'link', 'add', own, 'type', 'bridge']);
    await sh(['ip', 'link', 'add', other, 'type', 'bridge']);
    await sh(['ip', 'link', 'set', other, 'alias', 'xnet:nic:gone-eth1']);
    // a veth pair of a NIC deleted while the agent was down, marked as the agent marks it
    const [gone, goneTmp] = [vethHostName('gone-eth1'), tempName('gone-eth1')];
    await sh(['ip', 'link', 'add', gone, 'type', 'veth', 'peer', 'name', goneTmp]);
    for (const l of [gone, goneTmp]) await sh(['ip', 'link', 'set', l, 'alias', 'xnet:nic:gone-eth1']);
    const links = async () => (await hostExec(host1(), ['ip', '-o', 'link', 'show'])).stdout;
    expect(await links()).toContain(`${gone}@`);
    await lab.startAgent(host1());
    await eventually(async () => !(await links()).includes(`${gone}@`), 'the gone NIC\'s pair collected', 20_000);
    expect(await links()).toContain(`: ${own}:`);
    expect(await links()).toContain(`: ${other}:`);
    for (const l of [own, other]) await sh(['ip', 'link', 'del', l]);
  }, 120_000);

  it('puts a NIC that waited for its bridge\'s mark onto the bridge once the HostSubnet marks it (no kernel events, no resync)', async () => {
    // kernel events off: nothing but the HostSubnet's own pass can wake the NIC (the resync is an hour away)
    await lab.stopAgent(host1());
    await lab.startAgent(host1(), { events: { kernel: false } });
    const sh = (argv: string[]) => hostExec(host1(), argv).then((x) => mustSucceed(argv.join(' '), x));
    const bridge = async () => (await sh(['ip', '-d', 'link', 'show', 'dev', 'br01'])).stdout;
    // cleared until it stays so: the agent's Docker event stream, once connected, makes it look
    // at everything once (and mark br01 again)
    for (let i = 0; i < 5 && (i === 0 || (await bridge()).includes('alias xnet:hostsubnet:')); i++) {
      await sh(['ip', 'link', 'set', 'dev', 'br01', 'alias', '']);
      await new Promise((r) => setTimeout(r, 1500));
    }
    expect(await bridge()).not.toContain('alias xnet:hostsubnet:');
    await lab.store.create(obj('ContainerNic', 'side-eth2', { node: 'host-1', container: 'side', ifName: 'eth2', network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'side-eth2', '10.76.1.86');
    let seen: unknown;
    const why = await eventually(async () => { const c = await readyCondition(lab.store, 'ContainerNic', 'side-eth2'); seen = c; return c?.reason === 'BridgeNotReady' ? c : undefined; }, 'side-eth2 BridgeNotReady', 20_000)
      .catch((e) => { throw new Error(`${(e as Error).message}; Ready: ${JSON.stringify(seen)}`); });
    expect(why.message).toContain('br01');
    // a Docker network event makes the agent look at its HostSubnets, which mark br01 again
    mustSucceed('docker network create', await hostDocker(host1(), ['network', 'create', 'wake']));
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', 'side-eth2'))?.status === 'True', 'side-eth2 Ready', 20_000);
    expect(await bridge()).toContain('alias xnet:hostsubnet:default-host-1');
    expect(await sideAddrs()).toContain('10.76.1.86/24');
    mustSucceed('docker network rm', await hostDocker(host1(), ['network', 'rm', 'wake']));
    await lab.store.delete('ContainerNic', 'side-eth2');
  }, 120_000);
});
