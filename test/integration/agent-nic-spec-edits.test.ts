// A live ContainerNic edited (ifName, its network: ClusterNetwork <-> MacvlanNet, its
// ClusterNetwork's MTU) and its host end changed by hand (renamed, taken off its bridge, set
// down): the container ends with exactly the declared NIC, nothing of the old one left in the
// container or on the host, and drift heals from events (the resync is out of reach here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterNetwork, ContainerNic } from '../../pkg/api/index.js';
import { vethHostName } from '../../pkg/agent/planner/names.js';
import { BUSYBOX_IMAGE, hostExec } from '../../pkg/lab/index.js';
import { HEAL_WAIT_MS, breakAndCheck, breakVerified } from '../harness/heal.js';
import { agentLab, allocateNic, docker, createDefaultNetwork, eventually, inContainerNetns, obj, oneHostMacvlanNet, readyCondition, runContainer, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];
const ready = (name: string) => readyCondition(lab.store, 'ContainerNic', name);
const MARK = (nic: string) => `alias xnet:nic:${nic}`;

/** The container's links as `name kind mtu alias` lines (lo and Docker's eth0 left out). */
async function containerLinks(container: string): Promise<string[]> {
  const r = await inContainerNetns(h1(), container, ['ip', '-d', '-j', 'link', 'show']);
  const links = JSON.parse(r.stdout) as Array<{ ifname: string; mtu: number; ifalias?: string; linkinfo?: { info_kind?: string } }>;
  return links.filter((l) => l.ifname !== 'lo' && l.ifname !== 'eth0').map((l) => `${l.ifname} ${l.linkinfo?.info_kind ?? '?'} ${l.mtu} ${l.ifalias ?? ''}`.trim());
}

/** Host links carrying the NIC's mark, whatever their name. */
const markedOnHost = async (nic: string) => (await sh(h1(), ['ip', '-d', '-o', 'link', 'show'])).split('\n').filter((l) => l.includes(`${MARK(nic)} `) || l.endsWith(MARK(nic)));
const addrOf = async (container: string, dev: string) => (await inContainerNetns(h1(), container, ['ip', '-o', '-4', 'addr', 'show', 'dev', dev])).stdout;

async function editNic(name: string, change: (spec: ContainerNic['spec']) => ContainerNic['spec']): Promise<void> {
  const nic = (await lab.store.get('ContainerNic', name)) as ContainerNic;
  await lab.store.update({ ...nic, spec: change(nic.spec) } as ContainerNic);
}

/** Ready True for a NIC whose interface reads back as `ifName` (the agent re-read it after the edit). */
const readyAs = (name: string, ifName: string) => eventually(async () => {
  const r = await ready(name);
  return r?.status === 'True' && r.message?.startsWith(`${ifName} `) ? r : undefined;
}, `${name} Ready as ${ifName}`, 30_000);

beforeAll(async () => {
  lab = await agentLab(1);
  await createDefaultNetwork(lab.store, 1);
  await oneHostMacvlanNet(lab.store, 'mv230', 230, '192.168.230.250');
  await lab.startAgent(h1());
  await runContainer(h1(), 'edit');
  await runContainer(h1(), 'drift');
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: a live NIC whose spec is edited', () => {
  it('renamed (ifName eth1 -> eth5): the container has eth5 with the address and no eth1; one host end', async () => {
    await lab.store.create(obj('ContainerNic', 'edit-a', { node: 'host-1', container: 'edit', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'edit-a', '10.76.1.60');
    await readyAs('edit-a', 'eth1');
    await editNic('edit-a', (s) => ({ ...s, ifName: 'eth5' }));
    await readyAs('edit-a', 'eth5');
    expect(await containerLinks('edit')).toEqual([`eth5 veth 1500 xnet:nic:edit-a`]);
    expect(await addrOf('edit', 'eth5')).toContain('10.76.1.60/24');
    expect(await markedOnHost('edit-a')).toHaveLength(1);
  });

  it('moved from its ClusterNetwork to a MacvlanNet: a macvlan in its place, the veth and its host end gone', async () => {
    await editNic('edit-a', (s) => ({ ...s, network: { macvlanNet: 'mv230' } }));
    await lab.store.writeStatus('ContainerNic', 'edit-a', { controller: true }, { ip: '192.168.230.200', prefixLength: 24 });
    await eventually(async () => (await addrOf('edit', 'eth5')).includes('192.168.230.200/24') ? true : undefined, 'eth5 on the macvlan', 30_000);
    await readyAs('edit-a', 'eth5');
    expect(await containerLinks('edit')).toEqual([`eth5 macvlan 1500 xnet:nic:edit-a`]);
    expect(await markedOnHost('edit-a')).toEqual([]);
  });

  it('a macvlan NIC renamed (eth5 -> eth6): only eth6, with the declared MAC', async () => {
    await editNic('edit-a', (s) => ({ ...s, ifName: 'eth6' }));
    const r = await readyAs('edit-a', 'eth6');
    expect(r.reason).toBe('Converged');
    expect(await containerLinks('edit')).toEqual([`eth6 macvlan 1500 xnet:nic:edit-a`]);
    expect((await inContainerNetns(h1(), 'edit', ['ip', '-o', 'link', 'show', 'eth6'])).stdout).toContain('link/ether 02:42:c0:a8:e6:c8 ');
  });

  it('a NIC made on a MacvlanNet, renamed (eth7 -> eth8): only eth8, with the declared MAC', async () => {
    await runContainer(h1(), 'edit2');
    await lab.store.create(obj('ContainerNic', 'edit-m', { node: 'host-1', container: 'edit2', ifName: 'eth7', network: { macvlanNet: 'mv230' } }));
    await lab.store.writeStatus('ContainerNic', 'edit-m', { controller: true }, { ip: '192.168.230.201', prefixLength: 24 });
    await readyAs('edit-m', 'eth7');
    await editNic('edit-m', (s) => ({ ...s, ifName: 'eth8' }));
    await readyAs('edit-m', 'eth8');
    expect(await containerLinks('edit2')).toEqual([`eth8 macvlan 1500 xnet:nic:edit-m`]);
    expect((await inContainerNetns(h1(), 'edit2', ['ip', '-o', 'link', 'show', 'eth8'])).stdout).toContain('link/ether 02:42:c0:a8:e6:c9 ');
  });

  it('moved back to the ClusterNetwork: a veth on the bridge again, the macvlan gone', async () => {
    await editNic('edit-a', (s) => ({ ...s, network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'edit-a', '10.76.1.61');
    await eventually(async () => (await addrOf('edit', 'eth6')).includes('10.76.1.61/24') ? true : undefined, 'eth6 on the bridge', 30_000);
    await readyAs('edit-a', 'eth6');
    expect(await containerLinks('edit')).toEqual([`eth6 veth 1500 xnet:nic:edit-a`]);
    expect(await sh(h1(), ['ip', '-o', 'link', 'show', 'master', 'br01'])).toContain(vethHostName('edit-a'));
  });

  it('takes its ClusterNetwork\'s new MTU on both ends', async () => {
    const cn = (await lab.store.get('ClusterNetwork', 'default')) as ClusterNetwork;
    await lab.store.update({ ...cn, spec: { ...cn.spec, mtu: 1400 } } as ClusterNetwork);
    await eventually(async () => (await containerLinks('edit'))[0]?.startsWith('eth6 veth 1400 ') ? true : undefined, 'eth6 at MTU 1400', 30_000);
    expect(await sh(h1(), ['ip', '-o', 'link', 'show', vethHostName('edit-a')])).toContain('mtu 1400 ');
    await lab.store.update({ ...((await lab.store.get('ClusterNetwork', 'default')) as ClusterNetwork), spec: cn.spec } as ClusterNetwork);
  });
});

describe('agent: a live NIC moved or re-addressed', () => {
  const defaults = async (c: string) => (await inContainerNetns(h1(), c, ['ip', '-4', 'route', 'show', 'default'])).stdout.trim().split('\n').sort();

  it('a new MAC, then made the default route: both in place, Docker\'s route kept as the fallback', async () => {
    await editNic('edit-a', (s) => ({ ...s, mac: '02:00:00:00:aa:01' }));
    await eventually(async () => (await inContainerNetns(h1(), 'edit', ['ip', '-o', 'link', 'show', 'eth6'])).stdout.includes('link/ether 02:00:00:00:aa:01 ') ? true : undefined, 'eth6 with the new MAC', 30_000);
    await editNic('edit-a', (s) => ({ ...s, defaultRoute: true }));
    await eventually(async () => (await defaults('edit'))[0]?.startsWith('default via 10.76.1.1 dev eth6 proto 76') ? true : undefined, 'default route via eth6', 30_000);
    expect((await defaults('edit')).join('\n')).toMatch(/dev eth0 proto 76 metric 10076/);
    // renamed while it is the default route: its route follows it (the old one was its own, not a rival's)
    for (const ifName of ['eth4', 'eth6']) {
      await editNic('edit-a', (s) => ({ ...s, ifName }));
      await readyAs('edit-a', ifName);
      expect((await defaults('edit'))[0]).toMatch(new RegExp(`^default via 10\\.76\\.1\\.1 dev ${ifName} proto 76`));
    }
  });

  it('a veth NIC moved to another container: there once, nothing of it left in the first', async () => {
    await runContainer(h1(), 'edit3');
    await editNic('edit-a', (s) => ({ ...s, container: 'edit3', defaultRoute: false }));
    await eventually(async () => (await containerLinks('edit3')).length === 1 ? true : undefined, 'eth6 in edit3', 30_000);
    await readyAs('edit-a', 'eth6');
    expect(await containerLinks('edit3')).toEqual([`eth6 veth 1500 xnet:nic:edit-a`]);
    expect(await containerLinks('edit')).toEqual([]);
    expect(await markedOnHost('edit-a')).toHaveLength(1);
    // the first container's default route is Docker's again (xnet's went with eth6)
    expect((await defaults('edit')).join('\n')).toMatch(/^default via \S+ dev eth0/);
  });

  it('a macvlan NIC moved to another container (and renamed): there once, with its MAC; nothing left in the first', async () => {
    await editNic('edit-m', (s) => ({ ...s, container: 'edit3', ifName: 'eth9' }));
    await readyAs('edit-m', 'eth9');
    expect(await containerLinks('edit2')).toEqual([]);
    expect((await containerLinks('edit3')).sort()).toEqual([`eth6 veth 1500 xnet:nic:edit-a`, `eth9 macvlan 1500 xnet:nic:edit-m`]);
    expect((await inContainerNetns(h1(), 'edit3', ['ip', '-o', 'link', 'show', 'eth9'])).stdout).toContain('link/ether 02:42:c0:a8:e6:c9 ');
  });

  it('a macvlan NIC moved to another container with a new MAC: nothing of it left in the first (no MAC clash to find it by)', async () => {
    await editNic('edit-m', (s) => ({ ...s, container: 'edit2', mac: '02:00:00:00:bb:02' }));
    await eventually(async () => (await containerLinks('edit2')).length === 1 ? true : undefined, 'eth9 in edit2', 30_000);
    await readyAs('edit-m', 'eth9');
    expect(await containerLinks('edit2')).toEqual([`eth9 macvlan 1500 xnet:nic:edit-m`]);
    await eventually(async () => (await containerLinks('edit3')).length === 1 ? true : undefined, 'eth9 gone from edit3', HEAL_WAIT_MS);
    expect(await containerLinks('edit3')).toEqual([`eth6 veth 1500 xnet:nic:edit-a`]);
  });

  it('a macvlan NIC moved to a container that is not running yet: gone from the first at once, made when the new one starts', async () => {
    await docker(h1(), ['create', '--name', 'edit4', BUSYBOX_IMAGE, 'sleep', '100000']);
    await editNic('edit-m', (s) => ({ ...s, container: 'edit4' }));
    await eventually(async () => (await ready('edit-m'))?.reason === 'ContainerNotRunning' ? true : undefined, 'ContainerNotRunning', 30_000);
    await eventually(async () => (await containerLinks('edit2')).length === 0 ? true : undefined, 'eth9 gone from edit2', HEAL_WAIT_MS);
    await docker(h1(), ['start', 'edit4']);
    await readyAs('edit-m', 'eth9');
    expect(await containerLinks('edit4')).toEqual([`eth9 macvlan 1500 xnet:nic:edit-m`]);
  });

  it('a macvlan NIC moved to a container that does not exist yet: gone from the first at once, made when the new one is run', async () => {
    await editNic('edit-m', (s) => ({ ...s, container: 'edit5' }));
    await eventually(async () => (await ready('edit-m'))?.reason === 'ContainerNotFound' ? true : undefined, 'ContainerNotFound', 30_000);
    await eventually(async () => (await containerLinks('edit4')).length === 0 ? true : undefined, 'eth9 gone from edit4', HEAL_WAIT_MS);
    await runContainer(h1(), 'edit5');
    await readyAs('edit-m', 'eth9');
    expect(await containerLinks('edit5')).toEqual([`eth9 macvlan 1500 xnet:nic:edit-m`]);
    expect(await containerLinks('edit4')).toEqual([]);
  });
});

describe('agent: a NIC\'s host end changed by hand heals from events', () => {
  const hv = vethHostName('drift-a');
  beforeAll(async () => {
    await lab.store.create(obj('ContainerNic', 'drift-a', { node: 'host-1', container: 'drift', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'drift-a', '10.76.1.70');
    await readyAs('drift-a', 'eth1');
  }, 60_000);

  const whole = async () => {
    const port = await sh(h1(), ['ip', '-o', 'link', 'show', 'master', 'br01']);
    const c = await containerLinks('drift');
    return port.includes(`${hv}@`) && /state UP|,UP/.test(port.split('\n').find((l) => l.includes(hv)) ?? '') && c.length === 1 && c[0].startsWith('eth1 veth') ? true : undefined;
  };

  // Each break is proven in the same `ip -batch` that made it: the agent heals a port taken off
  // its bridge in milliseconds, before a second `ip` process could see it gone (CI, 2026-12-05).
  const breakIt = (argv: string[], probe: { argv: string[]; gone: string }) => breakVerified((a) => hostExec(h1(), a), argv, probe);
  const heal = (what: string, brk: () => Promise<void>) => breakAndCheck(what, { whole: async () => (await whole()) === true, breakIt: brk });

  it('taken off its bridge', async () => {
    await heal('host end back on br01', () => breakIt(['ip', 'link', 'set', hv, 'nomaster'], { argv: ['ip', '-o', 'link', 'show', 'master', 'br01'], gone: `${hv}@` }));
  });

  it('set down', async () => {
    await heal('host end up again', () => breakIt(['ip', 'link', 'set', hv, 'down'], { argv: ['ip', '-o', 'link', 'show', hv], gone: ',UP' }));
  });

  it('renamed: the NIC is made whole under its own names, no link left under the new name', async () => {
    await heal('NIC whole again', () => breakIt(['ip', 'link', 'set', hv, 'name', 'renamed0'], { argv: ['ip', '-o', 'link', 'show'], gone: `${hv}@` }));
    expect(await sh(h1(), ['ip', '-o', 'link', 'show'])).not.toContain('renamed0');
    expect(await addrOf('drift', 'eth1')).toContain('10.76.1.70/24');
    await readyAs('drift-a', 'eth1');
  });
});
