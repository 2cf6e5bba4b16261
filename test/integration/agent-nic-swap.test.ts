// Two NICs of one container swap their ifNames in one edit (eth1 <-> eth2), as `xctl apply`
// accepts. Each finds the name it wants held by the other's interface: before, both stayed
// InterfaceNameTaken for good ("an interface xnet did not make"), each on its old name with its
// old address. Now each gives up its own old interface and both come up under their new names.
// The agent runs with the tests' out-of-reach resync: what converges, converges by events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerNic } from '../../pkg/api/index.js';
import { allocateNic, eventually, inContainerNetns, obj, oneHostAgentLab, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];
const ready = async (name: string) => (await readyCondition(lab.store, 'ContainerNic', name))?.status === 'True';

/** The container's links but lo and eth0, as `name address mark`. */
async function nics(): Promise<string[]> {
  const r = await inContainerNetns(h1(), 'swap', ['ip', '-j', '-d', 'addr', 'show']);
  return (JSON.parse(r.stdout) as Array<{ ifname: string; ifalias?: string; addr_info: Array<{ family: string; local: string }> }>)
    .filter((l) => l.ifname !== 'lo' && l.ifname !== 'eth0')
    .map((l) => `${l.ifname} ${l.addr_info.filter((a) => a.family === 'inet').map((a) => a.local).join(',')} ${l.ifalias ?? ''}`).sort();
}

async function setIfName(name: string, ifName: string): Promise<void> {
  const nic = (await lab.store.get('ContainerNic', name)) as ContainerNic;
  await lab.store.update({ ...nic, spec: { ...nic.spec, ifName } } as ContainerNic);
}

beforeAll(async () => {
  lab = await oneHostAgentLab();
  await runContainer(h1(), 'swap');
  await lab.store.create(obj('ContainerNic', 'swap-a', { node: 'host-1', container: 'swap', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
  await allocateNic(lab.store, 'swap-a', '10.76.1.50');
  await lab.store.create(obj('ContainerNic', 'swap-b', { node: 'host-1', container: 'swap', ifName: 'eth2', network: { clusterNetwork: 'default' } }));
  await allocateNic(lab.store, 'swap-b', '10.76.1.51');
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: two NICs of one container swap names', () => {
  it('both come up under their new names, each with its own address', async () => {
    await eventually(async () => (await ready('swap-a')) && (await ready('swap-b')) ? true : undefined, 'both NICs Ready');
    expect(await nics()).toEqual(['eth1 10.76.1.50 xnet:nic:swap-a', 'eth2 10.76.1.51 xnet:nic:swap-b']);

    await setIfName('swap-a', 'eth2');
    await setIfName('swap-b', 'eth1');
    const swapped = ['eth1 10.76.1.51 xnet:nic:swap-b', 'eth2 10.76.1.50 xnet:nic:swap-a'];
    await eventually(async () => (await nics()).join('|') === swapped.join('|') ? true : undefined, 'the names swapped in the container', 15_000);
    await eventually(async () => (await ready('swap-a')) && (await ready('swap-b')) ? true : undefined, 'both NICs Ready again', 15_000);
    expect(await nics()).toEqual(swapped);
  });

  it('both declaring one name (written around xctl): the holder keeps it, the other waits without flapping, and comes back on its own name', async () => {
    await setIfName('swap-a', 'eth1');
    await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', 'swap-a'))?.reason === 'InterfaceNameTaken' ? true : undefined, 'swap-a InterfaceNameTaken');
    expect((await readyCondition(lab.store, 'ContainerNic', 'swap-a'))?.message).toContain('is ContainerNic swap-b\'s interface');
    await eventually(async () => (await nics()).join('|') === 'eth1 10.76.1.51 xnet:nic:swap-b' ? true : undefined, 'only swap-b in the container', 10_000);
    // nothing moves any more: no link or address event in the container for 3 s
    const mon = await inContainerNetns(h1(), 'swap', ['timeout', '3', 'ip', 'monitor', 'link', 'address']);
    expect(mon.stdout.trim()).toBe('');
    expect(await ready('swap-b')).toBe(true);

    await setIfName('swap-a', 'eth2');
    await eventually(async () => (await ready('swap-a')) ? true : undefined, 'swap-a Ready on eth2', 15_000);
    expect(await nics()).toEqual(['eth1 10.76.1.51 xnet:nic:swap-b', 'eth2 10.76.1.50 xnet:nic:swap-a']);
  });
});
