// A macvlan NIC lives only in its container: when its ContainerNic goes without the deleting
// phase that tells the agent which container it was in (moved to another node; deleted by an
// admin who removed its finalizer while the agent was down), the agent looks through the
// running containers and takes the NIC's link out, so the address it held is not kept there
// while the controller hands it out again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerNic } from '../../pkg/api/index.js';
import { agentLab, eventually, inContainerNetns, obj, oneHostMacvlanNet, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];

/** The container's links marked as xnet NICs, as `name kind alias`. */
async function marked(container: string): Promise<string[]> {
  const r = await inContainerNetns(h1(), container, ['ip', '-d', '-j', 'link', 'show']);
  const links = JSON.parse(r.stdout) as Array<{ ifname: string; ifalias?: string; linkinfo?: { info_kind?: string } }>;
  return links.filter((l) => l.ifalias?.startsWith('xnet:nic:')).map((l) => `${l.ifname} ${l.linkinfo?.info_kind ?? '?'} ${l.ifalias}`);
}

async function macvlanNic(name: string, container: string, ip: string): Promise<void> {
  await lab.store.create(obj('ContainerNic', name, { node: 'host-1', container, ifName: 'eth3', network: { macvlanNet: 'mv231' } }));
  await lab.store.writeStatus('ContainerNic', name, { controller: true }, { ip, prefixLength: 24 });
  await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', name))?.status === 'True' || undefined, `${name} Ready`, 30_000);
  expect(await marked(container)).toEqual([`eth3 macvlan xnet:nic:${name}`]);
}

beforeAll(async () => {
  lab = await agentLab(1);
  await oneHostMacvlanNet(lab.store, 'mv231', 231);
  await lab.startAgent(h1());
  await runContainer(h1(), 'left1');
  await runContainer(h1(), 'left2');
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: links of macvlan NICs that went without a deleting phase', () => {
  it('a NIC moved to another node: its macvlan leaves this node\'s container at once', async () => {
    await macvlanNic('left-a', 'left1', '192.168.231.201');
    const nic = (await lab.store.get('ContainerNic', 'left-a')) as ContainerNic;
    await lab.store.update({ ...nic, spec: { ...nic.spec, node: 'host-2' } } as ContainerNic);
    await eventually(async () => (await marked('left1')).length === 0 || undefined, 'the macvlan gone from left1', 10_000);
  });

  it('a NIC deleted (its finalizer removed by an admin) while the agent was down: gone from its container once the agent is back', async () => {
    await macvlanNic('left-b', 'left2', '192.168.231.202');
    await lab.stopAgent(h1());
    const nic = (await lab.store.get('ContainerNic', 'left-b')) as ContainerNic;
    await lab.store.update({ ...nic, metadata: { ...nic.metadata, finalizers: [] } } as ContainerNic);
    expect(await lab.store.delete('ContainerNic', 'left-b')).toBe(true);
    expect(await lab.store.get('ContainerNic', 'left-b')).toBeUndefined();
    // the break is there: the address is still in the container with no NIC to own it
    expect(await marked('left2')).toEqual(['eth3 macvlan xnet:nic:left-b']);
    await lab.startAgent(h1());
    await eventually(async () => (await marked('left2')).length === 0 || undefined, 'the macvlan gone from left2', 20_000);
    expect((await inContainerNetns(h1(), 'left2', ['ip', '-o', '-4', 'addr'])).stdout).not.toContain('192.168.231.202');
  });
});
