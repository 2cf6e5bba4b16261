// A NIC whose ifName a Docker network's interface holds is InterfaceNameTaken; once the user
// disconnects that network (`docker network disconnect`), the name is free and the NIC is made
// within seconds. No xnet NIC is in the container yet, so no watcher of its namespace reports
// the interface gone: only Docker's disconnect event does. The agent runs with the tests'
// out-of-reach resync, so a NIC made in time was made by that event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentLab, allocateNic, createDefaultNetwork, docker, eventually, inContainerNetns, obj, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];

beforeAll(async () => {
  lab = await agentLab(1);
  await createDefaultNetwork(lab.store, 1);
  await lab.startAgent(h1());
  await runContainer(h1(), 'freed');
  await docker(h1(), ['network', 'create', 'side7', '--subnet', '172.27.0.0/24']);
  await docker(h1(), ['network', 'connect', 'side7', 'freed']);
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: a NIC whose name a Docker network held', () => {
  it('is InterfaceNameTaken while Docker\'s eth1 is there, and made within seconds of its disconnect', async () => {
    const eth1 = async () => (await inContainerNetns(h1(), 'freed', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).stdout;
    expect(await eth1()).toContain('172.27.0.');
    await lab.store.create(obj('ContainerNic', 'freed-eth1', { node: 'host-1', container: 'freed', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'freed-eth1', '10.76.1.42');
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', 'freed-eth1'))?.reason === 'InterfaceNameTaken' ? true : undefined, 'InterfaceNameTaken');
    expect(await eth1()).toContain('172.27.0.');

    await docker(h1(), ['network', 'disconnect', 'side7', 'freed']);
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', 'freed-eth1'))?.status === 'True' ? true : undefined, 'freed-eth1 Ready', 10_000);
    expect(await eth1()).toMatch(/eth1\s+inet 10\.76\.1\.42\/24 /);
  });
});
