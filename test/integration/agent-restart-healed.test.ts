// Drift that happened while the agent was stopped (an operator deleting xnet's route to a peer,
// or a NIC's interface inside its container, during an upgrade) is repaired by the agent's
// first pass after it starts, and told as such: a Normal `Healed` event "found when the agent
// started" and xnet_drift_healed_total{trigger="restart"}. Setting a host up is not: a fresh
// agent's first pass, and what was declared or started while the agent was down (a new NIC, a
// new peer, a container restarted), tell no heal (pkg/agent/restart-evidence.ts).
// Everything is read and broken inside the lab's namespaces, never the root one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../../pkg/events/read.js';
import { driftHealed } from '../../pkg/metrics/metrics.js';
import { hostExec } from '../../pkg/lab/index.js';
import { breakVerified, HEAL_WAIT_MS } from '../harness/heal.js';
import { agentLab, allocateNic, createDefaultNetwork, docker, eventually, inContainerNetns, obj, readyCondition, routes, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];
const ready = async (name: string) => (await readyCondition(lab.store, 'ContainerNic', name))?.status === 'True';
const PEER_ROUTE = { dst: '10.76.2.0/24', gateway: '198.18.0.12' };
const peerRoute = async (dst = PEER_ROUTE.dst) => (await routes(h1())).find((r) => r.dst === dst);
const eth1 = async () => (await inContainerNetns(h1(), 'test', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).stdout;

/** The Healed events of host-1's Node and of these NICs: `reason object: message (count)`. */
async function healedEvents(nics: string[] = ['test-eth1']): Promise<string[]> {
  const out: string[] = [];
  for (const o of [{ kind: 'Node', name: 'host-1' }, ...nics.map((name) => ({ kind: 'ContainerNic', name }))] as const) {
    for (const e of (await listEvents(lab.client, '/xnet', o)).items) if (e.reason === 'Healed') out.push(`${o.kind}/${o.name}: ${e.message} (${e.count})`);
  }
  return out.sort();
}

/** xnet_drift_healed_total{trigger="restart"} of `kind` in this process, as it stands. */
async function counted(kind: string): Promise<number> {
  return (await driftHealed.get()).values.filter((v) => v.labels.trigger === 'restart' && v.labels.kind === kind).reduce((n, v) => n + v.value, 0);
}

/** The counter when this file began: other files run in this worker before it, their agents counting too (seen in the suite). */
const before = new Map<string, number>();

/** xnet_drift_healed_total{trigger="restart"} of `kind` counted by this file's agents (they run in this process). */
async function restartHeals(kind: string): Promise<number> {
  return (await counted(kind)) - (before.get(kind) ?? 0);
}

/**
 * Docker's rewrites of its iptables rules after xnet made a network are no heal for a minute
 * here (2 s by default): on a loaded machine they may come later, and this file counts heals.
 */
const startHost1 = () => lab.startAgent(h1(), { dockerFollowUpMs: 60_000 });

async function restartAgent(breakIt: () => Promise<void>): Promise<void> {
  await lab.stopAgent(h1());
  await breakIt();
  await startHost1();
}

beforeAll(async () => {
  for (const kind of ['Route', 'ContainerNic']) before.set(kind, await counted(kind));
  lab = await agentLab(2);
  await createDefaultNetwork(lab.store);
  // declared, with its container running, before host-1's agent ever ran: its first pass sets all up
  await runContainer(h1(), 'test');
  await lab.store.create(obj('ContainerNic', 'test-eth1', { node: 'host-1', container: 'test', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
  await allocateNic(lab.store, 'test-eth1', '10.76.1.84');
  await lab.startAgent(lab.hosts[1]);
  await startHost1();
  await eventually(async () => (await ready('test-eth1')) && (await peerRoute())?.gateway === PEER_ROUTE.gateway, 'NIC Ready and the route to host-2\'s subnet', 30_000);
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: drift that happened while the agent was stopped', () => {
  it('a fresh agent\'s first pass (bridge, network, NIC, peer route made) tells no heal', async () => {
    expect(await eth1()).toContain('inet 10.76.1.84/24');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await healedEvents()).toEqual([]);
    expect(await restartHeals('Route') + await restartHeals('ContainerNic')).toBe(0);
  });

  it('a peer route deleted while the agent was down is put back at start and told as Healed', async () => {
    await restartAgent(async () => {
      await breakVerified((argv) => hostExec(h1(), argv), ['ip', 'route', 'del', PEER_ROUTE.dst], { argv: ['ip', 'route', 'show'], gone: PEER_ROUTE.dst });
      expect(await peerRoute(), 'the route is gone while no agent runs').toBeUndefined();
    });
    expect((await peerRoute())?.gateway, 'put back by the first pass').toBe(PEER_ROUTE.gateway);
    const events = await eventually(async () => {
      const e = await healedEvents();
      return e.some((m) => m.startsWith('Node/host-1: repaired Route drift')) ? e : undefined;
    }, 'a Healed event of the route', HEAL_WAIT_MS);
    expect(events).toEqual(['Node/host-1: repaired Route drift on node host-1, found when the agent started (1)']);
    expect(await restartHeals('Route')).toBe(1);
  });

  it('a NIC\'s interface deleted in its container while the agent was down is made again at start and told as Healed', async () => {
    await restartAgent(async () => {
      await breakVerified((argv) => inContainerNetns(h1(), 'test', argv), ['ip', 'link', 'del', 'eth1'], { argv: ['ip', '-o', 'link', 'show'], gone: 'eth1' });
    });
    await eventually(async () => (await eth1()).includes('inet 10.76.1.84/24') && await ready('test-eth1'), 'eth1 back in the container', HEAL_WAIT_MS);
    await eventually(async () => ((await healedEvents()).some((m) => m.startsWith('ContainerNic/')) ? true : undefined), 'a Healed event of the NIC', HEAL_WAIT_MS);
    expect(await healedEvents()).toEqual([
      'ContainerNic/test-eth1: repaired ContainerNic drift on node host-1, found when the agent started (1)',
      'Node/host-1: repaired Route drift on node host-1, found when the agent started (1)',
    ]);
    expect(await restartHeals('ContainerNic')).toBe(1);
  });

  it('what was declared or started while the agent was down (a new NIC, a new peer, a container restarted) is set up, not healed', async () => {
    await runContainer(h1(), 'other');
    await lab.store.create(obj('ContainerNic', 'other-eth1', { node: 'host-1', container: 'other', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'other-eth1', '10.76.1.85');
    await eventually(async () => ready('other-eth1'), 'other-eth1 Ready', 30_000);
    const nics = ['test-eth1', 'other-eth1', 'new-eth2'];
    const before = await healedEvents(nics);
    const heals = await restartHeals('Route') + await restartHeals('ContainerNic');
    await restartAgent(async () => {
      // a NIC declared, a peer joined, and other's NIC lost with its restart, while no agent runs
      await lab.store.create(obj('ContainerNic', 'new-eth2', { node: 'host-1', container: 'test', ifName: 'eth2', network: { clusterNetwork: 'default' } }));
      await allocateNic(lab.store, 'new-eth2', '10.76.1.86');
      await lab.store.create(obj('Node', 'host-3', {}));
      await lab.store.create(obj('HostSubnet', 'default-host-3', { node: 'host-3', clusterNetwork: 'default', subnet: '10.76.3.0/24', bridge: 'br03', dockerRange: '10.76.3.128/25' }));
      await lab.store.writeStatus('HostSubnet', 'default-host-3', { controller: true }, { nodeAddress: '198.18.0.13' });
      await docker(h1(), ['restart', '-t', '0', 'other']);
      expect((await inContainerNetns(h1(), 'other', ['ip', '-o', 'link', 'show'])).stdout).not.toContain('eth1');
    });
    await eventually(async () => (await ready('new-eth2')) && (await ready('other-eth1')) && (await peerRoute('10.76.3.0/24'))?.gateway === '198.18.0.13',
      'the new NIC, the restarted container\'s NIC and the new peer\'s route in place', 30_000);
    expect((await inContainerNetns(h1(), 'other', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).stdout).toContain('inet 10.76.1.85/24');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await healedEvents(nics)).toEqual(before);
    expect(await restartHeals('Route') + await restartHeals('ContainerNic')).toBe(heals);
  }, 90_000);
});
