// A NIC whose ifName a Docker network's interface holds is InterfaceNameTaken; once the user
// disconnects that network (`docker network disconnect`), the name is free and the NIC is made
// within seconds. No xnet NIC is in the container yet, so no watcher of its namespace reports
// the interface gone: only Docker's disconnect event does. A link made by hand and removed by
// hand has no Docker event: the waiting NIC watches the container's namespace itself. The agent
// runs with the tests' out-of-reach resync, so a NIC made in time was made by an event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEAL_WAIT_MS } from '../harness/heal.js';
import { allocateNic, docker, eventually, inContainerNetns, obj, oneHostAgentLab, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];

beforeAll(async () => {
  lab = await oneHostAgentLab();
  await runContainer(h1(), 'freed');
  await runContainer(h1(), 'freed2');
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
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', 'freed-eth1'))?.status === 'True' ? true : undefined, 'freed-eth1 Ready', 20_000);
    expect(await eth1()).toMatch(/eth1\s+inet 10\.76\.1\.42\/24 /);
  });

  it('is InterfaceNameTaken while a link made by hand holds the name, and made within seconds of its removal', async () => {
    // No Docker event here, and no NIC of xnet's in this container yet: only a watcher of its
    // namespace, started for the waiting NIC itself, sees the name freed. (A veth pair: this
    // kernel has no dummy links.)
    const added = await inContainerNetns(h1(), 'freed2', ['ip', 'link', 'add', 'eth2', 'type', 'veth', 'peer', 'name', 'eth2p']);
    expect(added.exitCode, added.stderr).toBe(0);
    await lab.store.create(obj('ContainerNic', 'freed-eth2', { node: 'host-1', container: 'freed2', ifName: 'eth2', network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'freed-eth2', '10.76.1.43');
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', 'freed-eth2'))?.reason === 'InterfaceNameTaken' ? true : undefined, 'InterfaceNameTaken');
    // the agent's reconciles woken by its own status writes are over by then: what makes the
    // NIC below is the removal's event, not one of them finding the name already free
    await new Promise((r) => setTimeout(r, 1500));

    const removed = await inContainerNetns(h1(), 'freed2', ['ip', 'link', 'del', 'eth2']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', 'freed-eth2'))?.status === 'True' ? true : undefined, 'freed-eth2 Ready', HEAL_WAIT_MS);
    expect((await inContainerNetns(h1(), 'freed2', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth2'])).stdout).toMatch(/eth2\s+inet 10\.76\.1\.43\/24 /);
  });
});
