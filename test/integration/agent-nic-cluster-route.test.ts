// Containers started with a plain `docker run` (Docker's default bridge: their default route is
// not xnet's) get a ClusterNetwork NIC each, on two hosts. The NIC carries the route to the
// ClusterNetwork's CIDR, so the two reach each other across hosts; a deleted route is put back
// from the container's own `ip monitor` event (the agents' resync is an hour away). A container on the
// xnet network itself (its default route already through the bridge) gets no such route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReady, type ContainerNic, type HostSubnet } from '../../pkg/api/index.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { listEvents } from '../../pkg/events/read.js';
import { breakAndCheck, breakVerified } from '../harness/heal.js';
import { agentLabWithController, downWithController, eventually, inContainer, inContainerNetns, obj, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
let controller: Controller | undefined;

const containerRoutes = async (host: number, name: string) => (await inContainerNetns(lab.hosts[host], name, ['ip', 'route', 'show'])).stdout;
const nicIp = async (name: string) => ((await lab.store.get('ContainerNic', name)) as ContainerNic).status!.ip as string;

beforeAll(async () => {
  ({ lab, controller } = await agentLabWithController(2));
  await lab.store.applyAll([obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24, dockerNetwork: 'net1' })]);
  for (const h of lab.hosts) await lab.startAgent(h);
  await eventually(async () => { const l = (await lab.store.list('HostSubnet')).items as HostSubnet[]; return l.length === 2 && l.every(isReady); }, 'two Ready HostSubnets', 60_000);
  await runContainer(lab.hosts[0], 'ca');
  await runContainer(lab.hosts[1], 'cb');
  // on the xnet network itself: its default route is the bridge already
  await runContainer(lab.hosts[0], 'cc', ['--net', 'net1']);
  await lab.store.applyAll([
    obj('ContainerNic', 'ca-eth1', { node: 'host-1', container: 'ca', ifName: 'eth1', network: { clusterNetwork: 'default' } }),
    obj('ContainerNic', 'cb-eth1', { node: 'host-2', container: 'cb', ifName: 'eth1', network: { clusterNetwork: 'default' } }),
    obj('ContainerNic', 'cc-eth1', { node: 'host-1', container: 'cc', ifName: 'eth1', network: { clusterNetwork: 'default' } }),
  ]);
  await eventually(async () => { const l = (await lab.store.list('ContainerNic')).items as ContainerNic[]; return l.length === 3 && l.every(isReady); }, 'NICs Ready', 60_000);
}, 240_000);

afterAll(() => downWithController(lab, controller), 120_000);

describe('a ClusterNetwork NIC in a container on Docker\'s default bridge', () => {
  it('carries the route to the ClusterNetwork through its gateway, and reaches the other host\'s container', async () => {
    const gw = ((await lab.store.get('ContainerNic', 'ca-eth1')) as ContainerNic).status!.gateway as string;
    expect(await containerRoutes(0, 'ca')).toMatch(new RegExp(`^10\\.76\\.0\\.0/16 via ${gw.replace(/\./g, '\\.')} dev eth1 proto 76`, 'm'));
    expect(await containerRoutes(0, 'ca')).toMatch(/^default via 172\.17\.0\.1 dev eth0/m);
    const b = await nicIp('cb-eth1');
    expect((await inContainer(lab.hosts[0], 'ca', ['ping', '-c', '1', '-W', '2', b])).stdout).toContain('1 packets received');
  });

  it('puts a deleted route back from the container\'s own events, before the resync', async () => {
    // The agent puts the route back within milliseconds: the delete is proven in the same
    // `ip -batch` that made it, and the heal is awaited for HEAL_WAIT_MS while the agent's resync
    // is an hour away (a wall-clock bound after two waits failed on a loaded machine by itself).
    const route = /^10\.76\.0\.0\/16 via .* dev eth1 proto 76/m;
    await breakAndCheck('cluster route back', {
      whole: async () => route.test(await containerRoutes(0, 'ca')),
      breakIt: () => breakVerified((argv) => inContainerNetns(lab.hosts[0], 'ca', argv), ['ip', 'route', 'del', '10.76.0.0/16'], { argv: ['ip', 'route', 'show'], gone: '10.76.0.0/16 via' }),
    });
    expect((await inContainer(lab.hosts[0], 'ca', ['ping', '-c', '1', '-W', '2', await nicIp('cb-eth1')])).stdout).toContain('1 packets received');
  });

  it('follows the ClusterNetwork\'s cidr when it grows: the old route goes, the new one comes', async () => {
    await lab.store.applyAll([obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/15', hostPrefix: 24, dockerNetwork: 'net1' })]);
    await eventually(async () => /^10\.76\.0\.0\/15 via .* dev eth1/m.test(await containerRoutes(0, 'ca')) || undefined, 'the /15 route', 20_000);
    await eventually(async () => !/^10\.76\.0\.0\/16/m.test(await containerRoutes(0, 'ca')) || undefined, 'the /16 route gone', 20_000);
    expect((await inContainer(lab.hosts[0], 'ca', ['ping', '-c', '1', '-W', '2', await nicIp('cb-eth1')])).stdout).toContain('1 packets received');
  });

  it('is made again in the plan that moves the NIC to another address, and after it stops being the default route', async () => {
    const now = ((await lab.store.get('ContainerNic', 'ca-eth1')) as ContainerNic).status!.ip as string;
    const moved = now.replace(/\.\d+$/, '.100');
    const spec = { node: 'host-1', container: 'ca', ifName: 'eth1', network: { clusterNetwork: 'default' } };
    await lab.store.applyAll([obj('ContainerNic', 'ca-eth1', { ...spec, ip: moved })]);
    // the address change drops the NIC's routes in the kernel; the same plan makes them again, so
    // the NIC is Ready with the new address (a plan without them ends NotInPlace)
    await eventually(async () => { const n = (await lab.store.get('ContainerNic', 'ca-eth1')) as ContainerNic; return n.status?.ip === moved && isReady(n); }, 'Ready on the new address', 20_000);
    expect(await containerRoutes(0, 'ca')).toMatch(/^10\.76\.0\.0\/15 via .* dev eth1/m);
    await lab.store.applyAll([obj('ContainerNic', 'ca-eth1', { ...spec, ip: moved, defaultRoute: true })]);
    await eventually(async () => /^default via 10\.76\.\d+\.1 dev eth1/m.test(await containerRoutes(0, 'ca')) || undefined, 'the NIC is the default route', 20_000);
    await lab.store.applyAll([obj('ContainerNic', 'ca-eth1', { ...spec, ip: moved, defaultRoute: false })]);
    await eventually(async () => { const r = await containerRoutes(0, 'ca'); return (!/^default via 10\.76/m.test(r) && /^10\.76\.0\.0\/15 via .* dev eth1/m.test(r)) || undefined; }, 'back to the cluster route', 20_000);
    const n = (await lab.store.get('ContainerNic', 'ca-eth1')) as ContainerNic;
    expect(isReady(n), JSON.stringify(n.status?.conditions)).toBe(true);
    // no plan of these left the NIC short of a route (the agent says NotInPlace when one does)
    const events = (await listEvents(lab.client, '/xnet', { kind: 'ContainerNic', name: 'ca-eth1' })).items;
    expect(events.filter((e) => e.reason === 'NotInPlace').map((e) => e.message)).toEqual([]);
  });

  it('is not added in a container whose default route is the xnet bridge already', async () => {
    const routes = await containerRoutes(0, 'cc');
    expect(routes).toMatch(/^default via 10\.76\.\d+\.1 dev eth0/m);
    expect(routes).not.toMatch(/^10\.76\.0\.0\/1[56]/m);
    expect((await inContainer(lab.hosts[0], 'cc', ['ping', '-c', '1', '-W', '2', await nicIp('cb-eth1')])).stdout).toContain('1 packets received');
  });
});
