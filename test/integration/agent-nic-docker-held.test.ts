// Seed 000's own step: `docker run --net net1 --ip 10.76.1.83` puts a container on an address
// of xnet's part of the HostSubnet (outside dockerRange): Docker's IPAM checks --ip only
// against its own endpoints, and the controller knows nothing of them, so a ContainerNic could
// be given that address too. The agent made it, Ready True: two interfaces on one bridge with
// one address. It must not: the NIC waits, AddressInUse, naming the container that holds it,
// and is made once that container is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateNic, docker, eventually, inContainerNetns, obj, oneHostAgentLab, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];

beforeAll(async () => {
  lab = await oneHostAgentLab();
  await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', 'default-host-1'))?.status === 'True' || undefined, 'HostSubnet Ready', 60_000);
  await runContainer(h1(), 'web', ['--net', 'net1']);
  await runContainer(h1(), 'pinned', ['--net', 'net1', '--ip', '10.76.1.83']);
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: a NIC whose address a container Docker put on the same network holds', () => {
  it('is not made, and says which container holds the address; made once that container is gone', async () => {
    await lab.store.create(obj('ContainerNic', 'web-eth1', { node: 'host-1', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'web-eth1', '10.76.1.83');
    const r = await eventually(async () => {
      const c = await readyCondition(lab.store, 'ContainerNic', 'web-eth1');
      return c?.reason === 'AddressInUse' || c?.reason === 'Converged' ? c : undefined;
    }, 'web-eth1 reported', 60_000);
    expect(r.status).toBe('False');
    expect(r.message).toMatch(/^10\.76\.1\.83 is also the address of container pinned on Docker network net1/);
    // nothing of the NIC in the container: the address is on the wire once, as pinned's
    const links = await inContainerNetns(h1(), 'web', ['ip', '-o', 'link', 'show']);
    expect(links.stdout).not.toContain('eth1');
    await docker(h1(), ['rm', '-f', 'pinned']);
    const now = await eventually(async () => {
      const c = await readyCondition(lab.store, 'ContainerNic', 'web-eth1');
      return c?.status === 'True' ? c : undefined;
    }, 'web-eth1 Ready once pinned is gone', 60_000);
    expect(now.message).toContain('10.76.1.83/24');
  }, 180_000);
});
