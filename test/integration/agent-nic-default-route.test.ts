// A NIC that is the container's default route (spec.defaultRoute) replaces Docker's default
// route in the container; review revdp found it is never given back: deleting the NIC, or
// setting defaultRoute false, leaves the container without its own default route (or with the
// NIC's). Both tests FAIL on purpose until that is fixed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateNic, eventually, inContainerNetns, obj, oneHostAgentLab, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;

beforeAll(async () => {
  lab = await oneHostAgentLab();
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

const defaultRoutes = async (c: string) => JSON.parse((await inContainerNetns(lab.hosts[0], c, ['ip', '-json', 'route', 'show', 'default'])).stdout || '[]') as Array<{ gateway?: string; dev?: string }>;

async function nicAsDefault(container: string, nic: string, ip: string): Promise<void> {
  await runContainer(lab.hosts[0], container);
  expect(await defaultRoutes(container)).toEqual([expect.objectContaining({ dev: 'eth0', gateway: '172.17.0.1' })]);
  await lab.store.create(obj('ContainerNic', nic, { node: 'host-1', container, ifName: 'eth1', network: { clusterNetwork: 'default' }, defaultRoute: true }));
  await allocateNic(lab.store, nic, ip);
  await eventually(async () => (await readyCondition(lab.store, 'ContainerNic', nic))?.status === 'True', `${nic} Ready`);
  expect(await defaultRoutes(container)).toEqual([expect.objectContaining({ dev: 'eth1', gateway: '10.76.1.1' })]);
}

describe('a default-route NIC gives the container\'s default route back (review revdp)', () => {
  it('deleting the NIC leaves the container its Docker default route', async () => {
    await nicAsDefault('dr1', 'dr1-eth1', '10.76.1.71');
    await lab.store.delete('ContainerNic', 'dr1-eth1');
    await eventually(async () => !(await inContainerNetns(lab.hosts[0], 'dr1', ['ip', 'link', 'show'])).stdout.includes('eth1'), 'eth1 gone');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await defaultRoutes('dr1'), 'the container\'s default route after its default-route NIC went').toEqual([expect.objectContaining({ dev: 'eth0' })]);
  }, 60_000);

  it('setting defaultRoute false gives the default route back to Docker\'s eth0', async () => {
    await nicAsDefault('dr2', 'dr2-eth1', '10.76.1.72');
    const nic = await lab.store.get('ContainerNic', 'dr2-eth1');
    await lab.store.update({ ...nic!, spec: { ...nic!.spec, defaultRoute: false } } as never);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await defaultRoutes('dr2'), 'the container\'s default route after defaultRoute: false').toEqual([expect.objectContaining({ dev: 'eth0' })]);
  }, 60_000);
});
