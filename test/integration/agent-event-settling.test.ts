// What `xctl get events --for nic/<name>` shows for a NIC applied before its ClusterNetwork: a
// first apply passes through such conditions for a moment, so they are Normal events; a Warning
// only once one persists past the grace (a ClusterNetwork that never comes). The grace is the
// agent's option, made short here so the test waits only seconds. No controller runs: the test
// stands in for it (allocateNic).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../../pkg/events/read.js';
import { agentLab, allocateNic, createDefaultNetwork, eventually, obj, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

const GRACE_MS = 8_000;
let lab: AgentLab;

const ready = (name: string) => readyCondition(lab.store, 'ContainerNic', name);
/** TYPE/REASON (COUNT) of the NIC's events, as `xctl get events --for` lists them. */
const events = async (name: string) => (await listEvents(lab.client, '/xnet', { kind: 'ContainerNic', name })).items.map((e) => `${e.type}/${e.reason} (${e.count})`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  lab = await agentLab(1);
  await lab.startAgent(lab.hosts[0], { settleGraceMs: GRACE_MS });
  await runContainer(lab.hosts[0], 'test');
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: events of a NIC applied before what it needs', () => {
  it('is a Normal ClusterNetworkMissing, never a Warning, when the ClusterNetwork comes within the grace', async () => {
    const t0 = Date.now();
    await lab.store.create(obj('ContainerNic', 'early-eth1', { node: 'host-1', container: 'test', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'early-eth1', '10.76.1.84');
    await eventually(async () => (await ready('early-eth1'))?.reason === 'ClusterNetworkMissing', 'ClusterNetworkMissing');
    await createDefaultNetwork(lab.store, 1);
    await eventually(async () => (await ready('early-eth1'))?.status === 'True', 'Ready', 30_000);
    // past the grace: no late Warning for what cleared
    await sleep(Math.max(0, t0 + GRACE_MS + 1_500 - Date.now()));
    const seen = await events('early-eth1');
    expect(seen).toContain('Normal/ClusterNetworkMissing (1)');
    expect(seen).toContain('Normal/Attached (1)');
    expect(seen.filter((e) => e.startsWith('Warning'))).toEqual([]);
  }, 60_000);

  it('is a Normal ClusterNetworkMissing first, then one Warning once it persists past the grace', async () => {
    await lab.store.create(obj('ContainerNic', 'orphan-eth2', { node: 'host-1', container: 'test', ifName: 'eth2', network: { clusterNetwork: 'nowhere' } }));
    await lab.store.writeStatus('ContainerNic', 'orphan-eth2', { controller: true }, { ip: '10.77.1.84', prefixLength: 24, gateway: '10.77.1.1', hostSubnet: 'nowhere-host-1' });
    await eventually(async () => (await events('orphan-eth2')).includes('Normal/ClusterNetworkMissing (1)') || undefined, 'a Normal event');
    await eventually(async () => (await events('orphan-eth2')).includes('Warning/ClusterNetworkMissing (1)') || undefined, 'the Warning', 3 * GRACE_MS);
    // the grace read from the events' own times (the agent's clock): a slow poll here moves neither
    const first = async (type: string) => Date.parse((await listEvents(lab.client, '/xnet', { kind: 'ContainerNic', name: 'orphan-eth2' })).items.find((e) => e.type === type && e.reason === 'ClusterNetworkMissing')!.firstTimestamp);
    expect(await first('Warning') - await first('Normal'), 'the Warning only once the condition outlasted the grace').toBeGreaterThanOrEqual(GRACE_MS - 1_000);
    // one Warning, and the condition as it was: only the event's type changed
    await sleep(2_000);
    expect((await events('orphan-eth2')).filter((e) => e.startsWith('Warning'))).toEqual(['Warning/ClusterNetworkMissing (1)']);
    expect(await ready('orphan-eth2')).toMatchObject({ status: 'False', reason: 'ClusterNetworkMissing' });
  }, 60_000);
});
