// Seed 000's own step, with the controller: `docker run --net <network> --ip` an address of
// xnet's part of the HostSubnet (outside dockerRange) that the controller would hand out next.
// The agent reports it on its HostSubnet (status.dockerHeld, shown by `xctl get hs -o yaml`),
// and a ContainerNic made after gets another address and is Ready, where it was given that one
// and waited AddressInUse for as long as the container ran. Real etcd, the controller, an agent
// and a dockerd on host-1 (agent/reconcilers/host-subnet-docker-held.ts). A stopped container
// keeps its --ip address for its next start: it stays listed until the container is removed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReady, type HostSubnet } from '../../pkg/api/index.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { agentJoined, agentLabWithController, docker, downWithController, eventually, obj, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
let controller: Controller | undefined;

beforeAll(async () => {
  ({ lab, controller } = await agentLabWithController(1));
  await agentJoined(lab);
}, 240_000);

afterAll(() => downWithController(lab, controller), 120_000);

const hs = async () => (await lab.store.get('HostSubnet', 'held-host-1')) as HostSubnet | undefined;
const heldNow = async () => (await hs())?.status?.dockerHeld;

describe('a container given an address of xnet\'s part with docker run --ip', () => {
  it('is reported on the HostSubnet, and a NIC made after gets another address and is Ready', async () => {
    await lab.store.applyAll([obj('ClusterNetwork', 'held', { cidr: '10.85.0.0/16', hostPrefix: 24, dockerNetwork: 'heldnet' })]);
    const h = await eventually(async () => { const x = await hs(); return x && isReady(x) ? x : undefined; }, 'held-host-1 Ready', 60_000);
    expect(h.status?.dockerHeld).toBeUndefined();
    const base = String(h.status!.subnet).split('/')[0].split('.').slice(0, 3).join('.');
    // .2: the first address next fit hands out on a HostSubnet with no NIC yet
    const taken = `${base}.2`;
    await runContainer(lab.hosts[0], 'web', ['--net', 'heldnet']);
    await runContainer(lab.hosts[0], 'pinned', ['--net', 'heldnet', '--ip', taken]);
    expect(await eventually(async () => { const d = await heldNow(); return d?.length ? d : undefined; }, 'the HostSubnet lists the address', 15_000)).toEqual([taken]);

    await lab.store.applyAll([obj('ContainerNic', 'web-eth1', { node: 'host-1', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'held' } })]);
    const ready = await eventually(async () => { const c = await readyCondition(lab.store, 'ContainerNic', 'web-eth1'); return c?.status === 'True' ? c : undefined; }, 'web-eth1 Ready', 60_000);
    const ip = String((await lab.store.get('ContainerNic', 'web-eth1'))?.status?.ip);
    expect(ip).not.toBe(taken);
    expect(ip.startsWith(`${base}.`)).toBe(true);
    expect(ready.message).toContain(`${ip}/24`);

    // the container gone (disconnect), the HostSubnet lists nothing
    await docker(lab.hosts[0], ['rm', '-f', 'pinned']);
    await eventually(async () => ((await heldNow()) === undefined ? true : undefined), 'the HostSubnet lists nothing once pinned is gone', 15_000);
  }, 240_000);
});

describe('a container given an address of xnet\'s part with docker run --ip, then stopped', () => {
  it('stays reported while it is stopped (it gets that address back at its next start), and goes once it is removed', async () => {
    const h = await eventually(async () => { const x = await hs(); return x && isReady(x) ? x : undefined; }, 'held-host-1 Ready', 60_000);
    const base = String(h.status!.subnet).split('/')[0].split('.').slice(0, 3).join('.');
    const [stopped, marker] = [`${base}.100`, `${base}.101`];
    await runContainer(lab.hosts[0], 'sleeper', ['--net', 'heldnet', '--ip', stopped]);
    await eventually(async () => ((await heldNow())?.includes(stopped) ? true : undefined), 'the HostSubnet lists the address', 15_000);
    // stop wakes a pass (the network's disconnect event); the marker's connect wakes one after it,
    // so once the marker is listed the report reflects the stopped container
    await docker(lab.hosts[0], ['stop', '-t', '1', 'sleeper']);
    await runContainer(lab.hosts[0], 'marker', ['--net', 'heldnet', '--ip', marker]);
    const listed = await eventually(async () => { const d = await heldNow(); return d?.includes(marker) ? d : undefined; }, 'the HostSubnet lists the marker', 15_000);
    expect(listed).toEqual([stopped, marker]);

    // removed (a container's destroy event), its address is free again
    await docker(lab.hosts[0], ['rm', 'sleeper']);
    expect(await eventually(async () => { const d = await heldNow(); return d && !d.includes(stopped) ? d : undefined; }, 'the stopped address goes once sleeper is removed', 15_000)).toEqual([marker]);
  }, 120_000);
});
