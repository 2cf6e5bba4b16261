// A hand-written HostSubnet given another subnet while a container is on its Docker network:
// the network cannot move (NetworkInUse), and its bridge keeps the old gateway. A ClusterNetwork
// NIC on it was made with its new address and reported Ready True, Converged, although its
// gateway existed nowhere and nothing beyond the bridge answered (found in a 3-host lab).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostSubnet } from '../../pkg/api/index.js';
import { allocateNic, docker, eventually, obj, oneHostAgentLab, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];
const nicReady = () => readyCondition(lab.store, 'ContainerNic', 'n-eth1');

beforeAll(async () => {
  lab = await oneHostAgentLab();
  await runContainer(h1(), 'holder', ['--net', 'net1']);
  await runContainer(h1(), 'nc');
  await lab.store.create(obj('ContainerNic', 'n-eth1', { node: 'host-1', container: 'nc', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
  await allocateNic(lab.store, 'n-eth1', '10.76.1.20');
  await eventually(async () => (await nicReady())?.status === 'True', 'n-eth1 Ready', 30_000);
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: a NIC whose HostSubnet moved while its network cannot', () => {
  it('is not Ready while its bridge lacks its gateway, and Ready once the network moved', async () => {
    const hs = (await lab.store.get('HostSubnet', 'default-host-1')) as HostSubnet;
    await lab.store.update({ ...hs, spec: { ...hs.spec, subnet: '10.76.5.0/24', dockerRange: '10.76.5.128/25' } } as HostSubnet);
    // the controller's part: the NIC's address moves with the subnet
    await lab.store.writeStatus('ContainerNic', 'n-eth1', { controller: true }, { ip: '10.76.5.20', prefixLength: 24, gateway: '10.76.5.1', hostSubnet: 'default-host-1' });
    await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', 'default-host-1'))?.reason === 'NetworkInUse', 'HostSubnet NetworkInUse', 20_000);
    let seen: unknown;
    const c = await eventually(async () => { const r = await nicReady(); seen = r; return r?.reason === 'BridgeNotReady' ? r : undefined; }, 'n-eth1 BridgeNotReady', 20_000)
      .catch((e) => { throw new Error(`${(e as Error).message}; Ready: ${JSON.stringify(seen)}`); });
    expect(c.status).toBe('False');
    expect(c.message).toContain('10.76.5.1');
    await docker(h1(), ['network', 'disconnect', 'net1', 'holder']);
    await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', 'default-host-1'))?.status === 'True', 'HostSubnet Ready on the new subnet', 30_000);
    await eventually(async () => (await nicReady())?.status === 'True', 'n-eth1 Ready once its gateway is on the bridge', 30_000);
  });
});
