// Deleting objects under running agents, the way a user of kubectl would: each agent takes
// away what it made for the object (Docker network and bridge, routes, NAT rules) and nothing
// else, and an object applied again under the same name comes back whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReady, type ContainerNic, type HostSubnet } from '../../pkg/api/index.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { agentLabWithController, docker, downWithController, eventually, inContainer, obj, routes, runContainer, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
let controller: Controller | undefined;
const cnDoc = obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24, reserved: ['10.76.0.0/24'], dockerNetwork: 'net1' });
const nicDoc = obj('ContainerNic', 'test-eth1', { node: 'host-1', container: 'test', ifName: 'eth1', network: { clusterNetwork: 'default' } });

beforeAll(async () => {
  ({ lab, controller } = await agentLabWithController(2));
  await lab.store.applyAll([cnDoc]);
  for (const h of lab.hosts) await lab.startAgent(h);
  await runContainer(lab.hosts[0], 'test');
  await lab.store.applyAll([nicDoc]);
}, 240_000);

afterAll(() => downWithController(lab, controller), 120_000);

const hostSubnets = async () => (await lab.store.list('HostSubnet')).items as HostSubnet[];
const nic = async () => (await lab.store.get('ContainerNic', 'test-eth1')) as ContainerNic | undefined;
const xnetRoutes = async (i: number) => (await routes(lab.hosts[i])).filter((r) => r.protocol === '76' && r.dst.startsWith('10.76.'));
const networks = async (i: number) => (await docker(lab.hosts[i], ['network', 'ls', '--format', '{{.Name}}'])).split('\n');
const natLines = async (i: number) => (await sh(lab.hosts[i], ['iptables-save'])).split('\n').filter((l) => l.includes('10.76.'));
const eth1 = async () => (await inContainer(lab.hosts[0], 'test', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).stdout;

async function whole(): Promise<{ hs: HostSubnet[]; nic: ContainerNic }> {
  const hs = await eventually(async () => { const l = await hostSubnets(); return l.length === 2 && l.every(isReady) ? l : undefined; }, 'two Ready HostSubnets', 60_000);
  await eventually(async () => (await xnetRoutes(0)).length === 1 && (await xnetRoutes(1)).length === 1 || undefined, 'a route to the peer on each host', 30_000);
  const n = await eventually(async () => { const x = await nic(); return x && isReady(x) ? x : undefined; }, 'NIC Ready', 60_000);
  expect(await eth1()).toContain(`${n.status!.ip}/24`);
  return { hs, nic: n };
}

describe('deleting under running agents', () => {
  it('a ClusterNetwork deleted: every host takes its bridge network, routes and NAT rules away, its NIC leaves the container; applied again, it comes back whole', async () => {
    const before = await whole();
    expect(await lab.store.delete('ClusterNetwork', 'default')).toBe(true);
    await eventually(async () => (await hostSubnets()).length === 0 || undefined, 'HostSubnets deleted');
    for (const i of [0, 1]) {
      await eventually(async () => !(await networks(i)).includes('net1') || undefined, `host-${i + 1}: Docker network net1 removed`, 30_000);
      await eventually(async () => (await xnetRoutes(i)).length === 0 || undefined, `host-${i + 1}: routes removed`, 30_000);
      await eventually(async () => (await natLines(i)).length === 0 || undefined, `host-${i + 1}: iptables rules of 10.76.0.0/16 removed`, 30_000);
    }
    // the NIC stays, without an address, and says why
    const released = await eventually(async () => { const x = await nic(); return x && !x.status?.ip && !isReady(x) ? x : undefined; }, 'NIC without address, not Ready', 30_000);
    // ... and the container no longer holds the released address (another NIC may get it after the cooldown)
    await eventually(async () => !/^\d+: eth1[@:]/m.test((await inContainer(lab.hosts[0], 'test', ['ip', '-o', 'link'])).stdout) || undefined, 'eth1 taken out of the container', 10_000);
    expect((await inContainer(lab.hosts[0], 'test', ['ip', '-o', '-4', 'addr'])).stdout).not.toContain(`${before.nic.status!.ip}/`);
    expect(released.metadata.uid).toBe(before.nic.metadata.uid);
    await lab.store.applyAll([cnDoc]);
    await whole();
    const r = await ipamCheck(lab.client, '/xnet');
    expect(r.problems, r.text).toBe(0);
  }, 240_000);

  it('the HostSubnet under a NIC deleted: the controller makes it again, the NIC follows it, a peer reaches the NIC', async () => {
    const before = await whole();
    const mine = before.hs.find((h) => h.spec.node === 'host-1')!;
    expect(await lab.store.delete('HostSubnet', mine.metadata.name)).toBe(true);
    const after = await eventually(async () => {
      const h = (await hostSubnets()).find((x) => x.spec.node === 'host-1');
      return h && h.metadata.uid !== mine.metadata.uid && isReady(h) ? h : undefined;
    }, 'host-1 has a new Ready HostSubnet', 60_000);
    const n = await eventually(async () => {
      const x = await nic();
      return x && isReady(x) && x.status?.hostSubnet === after.metadata.name && String(x.status.ip).startsWith(String(after.status!.subnet).replace(/0\/24$/, '')) ? x : undefined;
    }, 'NIC Ready in the new HostSubnet', 60_000);
    await eventually(async () => (await eth1()).includes(`${n.status!.ip}/24`) || undefined, 'eth1 has the address', 30_000);
    // from a container on host-2's network: across the hosts, routed to the new subnet
    await runContainer(lab.hosts[1], 'peer', ['--net', 'net1']);
    await eventually(async () => (await inContainer(lab.hosts[1], 'peer', ['ping', '-c', '1', '-W', '1', String(n.status!.ip)])).stdout.includes('1 packets received') || undefined, 'a container on host-2 pings the NIC', 30_000);
    const r = await ipamCheck(lab.client, '/xnet');
    expect(r.problems, r.text).toBe(0);
  }, 240_000);

  it('a NIC deleted and applied again at once (a new uid): the new one is Ready, nothing of the old one is left', async () => {
    const before = await whole();
    expect(await lab.store.delete('ContainerNic', 'test-eth1')).toBe(true);
    await eventually(async () => !(await nic()) || undefined, 'the old NIC gone', 60_000);
    await lab.store.applyAll([nicDoc]);
    const n = await eventually(async () => { const x = await nic(); return x && isReady(x) && x.metadata.uid !== before.nic.metadata.uid ? x : undefined; }, 'the new NIC Ready', 60_000);
    expect(await eth1()).toContain(`${n.status!.ip}/24`);
    if (n.status!.ip !== before.nic.status!.ip) expect(await eth1()).not.toContain(`${before.nic.status!.ip}/`);
    const r = await ipamCheck(lab.client, '/xnet');
    expect(r.problems, r.text).toBe(0);
  }, 240_000);

  it('the Node of a running agent deleted: the controller makes it again, its subnet and the peers\' routes come back', async () => {
    await whole();
    // Deleting a Node deletes the HostSubnets made for it and frees their blocks, also while its
    // agent runs (its report goes in the Node's transaction); the one made again when the agent
    // re-registers may be another block, and a container left on the old Docker network would
    // keep Docker from moving it (NetworkInUse, docs/agent.md). The container of the test above goes.
    await docker(lab.hosts[1], ['rm', '-f', 'peer']);
    const node = await lab.store.get('Node', 'host-2');
    expect(await lab.store.delete('Node', 'host-2')).toBe(true);
    await eventually(async () => { const n = await lab.store.get('Node', 'host-2'); return n && n.metadata.uid !== node!.metadata.uid && isReady(n) ? n : undefined; }, 'host-2 made again and Ready', 60_000);
    await whole();
    expect((await networks(1)).filter((n) => n === 'net1')).toHaveLength(1);
    const r = await ipamCheck(lab.client, '/xnet');
    expect(r.problems, r.text).toBe(0);
  }, 240_000);

  it('the Node of a running agent with a NIC deleted: the NIC is Ready again on the node made again', async () => {
    await whole();
    const node = await lab.store.get('Node', 'host-1');
    const deletedAt = Date.now();
    expect(await lab.store.delete('Node', 'host-1')).toBe(true);
    const again = await eventually(async () => { const n = await lab.store.get('Node', 'host-1'); return n && n.metadata.uid !== node!.metadata.uid && isReady(n) ? n : undefined; }, 'host-1 made again and Ready', 60_000);
    // Ready since the Node came back, not since the agent started (its report went with the Node)
    const ready = again.status?.conditions?.find((c) => c.type === 'Ready');
    expect(Date.parse(ready!.lastTransitionTime!)).toBeGreaterThanOrEqual(deletedAt - 1000);
    await whole();
    const r = await ipamCheck(lab.client, '/xnet');
    expect(r.problems, r.text).toBe(0);
  }, 240_000);
});
