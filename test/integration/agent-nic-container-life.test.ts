// Two NICs of one container on two networks (a veth on the ClusterNetwork, a macvlan on a
// MacvlanNet) through the container's life: stopped and started, paused, killed and brought
// back by its restart policy, removed and run again under the same name (a new namespace), its
// dockerd crashed. Each time the NICs come back once, in the container's current namespace,
// and nothing of the previous life is left on the host. Renamed away from the NICs' container
// name, it loses them, told as the rename it is, not counted as a heal. A NIC whose ifName the
// image already has is refused and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerNic } from '../../pkg/api/index.js';
import { crashAndRestartDockerd, hostDocker } from '../../pkg/lab/index.js';
import { listEvents } from '../../pkg/events/read.js';
import { driftHealed } from '../../pkg/metrics/metrics.js';
import { agentLab, allocateNic, createDefaultNetwork, docker, eventually, inContainerNetns, obj, readyCondition, runContainer, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];
const NICS = ['life-v', 'life-m'];
const ready = (name: string) => readyCondition(lab.store, 'ContainerNic', name);
const pidOf = async () => docker(h1(), ['inspect', '-f', '{{.State.Pid}}', 'life']);
const idOf = async () => docker(h1(), ['inspect', '-f', '{{.Id}}', 'life']);

/** The container's links but lo and eth0, as `name kind alias`. */
async function links(container = 'life'): Promise<string[]> {
  const r = await inContainerNetns(h1(), container, ['ip', '-d', '-j', 'link', 'show']);
  return (JSON.parse(r.stdout) as Array<{ ifname: string; ifalias?: string; linkinfo?: { info_kind?: string } }>)
    .filter((l) => l.ifname !== 'lo' && l.ifname !== 'eth0').map((l) => `${l.ifname} ${l.linkinfo?.info_kind} ${l.ifalias ?? ''}`.trim()).sort();
}
/** Heals of ContainerNics: the agent's metric (the agent runs in this process) and the NICs' Healed events. */
async function heals(): Promise<{ metric: number; events: number }> {
  const metric = (await driftHealed.get()).values.filter((v) => v.labels.kind === 'ContainerNic').reduce((n, v) => n + v.value, 0);
  let events = 0;
  for (const n of NICS) events += (await listEvents(lab.client, '/xnet', { kind: 'ContainerNic', name: n })).items.filter((e) => e.reason === 'Healed').reduce((k, e) => k + e.count, 0);
  return { metric, events };
}
const WHOLE = ['eth1 veth xnet:nic:life-v', 'eth2 macvlan xnet:nic:life-m'];
/** Host links marked as a NIC's (xv/xt), whatever their name. */
const hostNicLinks = async () => (await sh(h1(), ['ip', '-d', '-o', 'link', 'show'])).split('\n').filter((l) => / alias xnet:nic:/.test(l)).length;

/** Both NICs Ready for the container with id `id`, whole in its namespace, one host end. */
async function whole(id: string, what: string): Promise<void> {
  await eventually(async () => {
    for (const n of NICS) {
      const nic = (await lab.store.get('ContainerNic', n)) as ContainerNic;
      if ((await ready(n))?.status !== 'True' || nic.status?.containerId !== id) return undefined;
    }
    return (await links()).join(',') === WHOLE.join(',') ? true : undefined;
  }, `both NICs whole in life (${what})`, 30_000);
  expect(await links()).toEqual(WHOLE);
  expect(await hostNicLinks()).toBe(1);
  const addrs = (await inContainerNetns(h1(), 'life', ['ip', '-o', '-4', 'addr', 'show'])).stdout;
  expect(addrs).toMatch(/eth1\s+inet 10\.76\.1\.40\/24 /);
  expect(addrs).toMatch(/eth2\s+inet 192\.168\.231\.200\/24 /);
}

beforeAll(async () => {
  lab = await agentLab(1);
  await createDefaultNetwork(lab.store, 1);
  await lab.store.create(obj('MacvlanNet', 'mv231', { subnet: '192.168.231.0/24', gateway: '192.168.231.1', ipRange: '192.168.231.128/25', dockerIPAM: 'blocks', parent: 'eth0' }));
  await lab.store.writeStatus('MacvlanNet', 'mv231', { controller: true }, { nodes: [{ name: 'host-1', dockerRange: '192.168.231.128/28', shimAddress: '192.168.231.250' }] });
  await lab.startAgent(h1());
  await runContainer(h1(), 'life', ['--restart', 'always']);
  await lab.store.create(obj('ContainerNic', 'life-v', { node: 'host-1', container: 'life', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
  await allocateNic(lab.store, 'life-v', '10.76.1.40');
  await lab.store.create(obj('ContainerNic', 'life-m', { node: 'host-1', container: 'life', ifName: 'eth2', network: { macvlanNet: 'mv231' } }));
  await lab.store.writeStatus('ContainerNic', 'life-m', { controller: true }, { ip: '192.168.231.200', prefixLength: 24 });
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: two NICs of one container through its life', () => {
  it('are both made, each once', async () => {
    await whole(await idOf(), 'first');
  });

  it('a NIC whose ifName the container already has (Docker\'s eth0): InterfaceNameTaken, eth0 untouched', async () => {
    const eth0 = (await inContainerNetns(h1(), 'life', ['ip', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
    await lab.store.create(obj('ContainerNic', 'life-x', { node: 'host-1', container: 'life', ifName: 'eth0', network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'life-x', '10.76.1.41');
    await eventually(async () => (await ready('life-x'))?.reason === 'InterfaceNameTaken' ? true : undefined, 'InterfaceNameTaken');
    expect((await inContainerNetns(h1(), 'life', ['ip', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout).toBe(eth0);
    await lab.store.delete('ContainerNic', 'life-x');
    expect(await hostNicLinks()).toBe(1);
  });

  it('paused and unpaused: nothing changes', async () => {
    const id = await idOf();
    await docker(h1(), ['pause', 'life']);
    await new Promise((r) => setTimeout(r, 1500));
    for (const n of NICS) expect((await ready(n))?.status).toBe('True');
    await docker(h1(), ['unpause', 'life']);
    await whole(id, 'unpaused');
  });

  it('stopped: not running, the veth\'s host end gone with the namespace; started: back once', async () => {
    const id = await idOf();
    await docker(h1(), ['stop', '-t', '0', 'life']);
    await eventually(async () => (await ready('life-v'))?.reason === 'ContainerNotRunning' ? true : undefined, 'ContainerNotRunning');
    await eventually(async () => (await hostNicLinks()) === 0 ? true : undefined, 'no host end', 10_000);
    await docker(h1(), ['start', 'life']);
    await whole(id, 'started again');
  });

  it('killed and started again by its restart policy: back once in the new namespace', async () => {
    const pid = await pidOf();
    await sh(h1(), ['kill', '-9', pid]);
    await eventually(async () => { const p = await pidOf().catch(() => '0'); return p !== '0' && p !== pid ? true : undefined; }, 'a new PID', 30_000);
    await whole(await idOf(), 'killed');
  });

  it('removed and run again under the same name: in the new container, nothing of the old', async () => {
    const old = await idOf();
    await docker(h1(), ['rm', '-f', 'life']);
    await runContainer(h1(), 'life', ['--restart', 'always']);
    const id = await idOf();
    expect(id).not.toBe(old);
    await whole(id, 're-created');
  });

  it('renamed away (docker rename): both NICs taken out, ContainerNotFound naming the new name, not counted nor told as a heal; renamed back: whole again', async () => {
    const id = await idOf();
    await whole(id, 'before the rename');
    // what the last test's reconciles had to count is counted
    await new Promise((r) => setTimeout(r, 1000));
    const before = await heals();
    await docker(h1(), ['rename', 'life', 'life-renamed']);
    try {
      await renamedAway(id, before);
    } finally {
      // the tests after this one run on "life"
      await docker(h1(), ['rename', 'life-renamed', 'life']);
    }
    await whole(id, 'renamed back');
  }, 60_000);

  /** Both NICs out of the container renamed away; the message says so; no heal. */
  async function renamedAway(id: string, before: { metric: number; events: number }): Promise<void> {
    const want = `no container "life" on node host-1 (the NIC was in container ${id.slice(0, 12)}, named "life-renamed" now: renamed, or spec.container edited); the NIC is added when a container of that name starts`;
    const messages: Record<string, string | undefined> = {};
    for (const n of NICS) {
      messages[n] = (await eventually(async () => { const r = await ready(n); return r?.reason === 'ContainerNotFound' ? r : undefined; }, `${n} ContainerNotFound`, 10_000)).message;
    }
    await eventually(async () => (await links('life-renamed')).length === 0 ? true : undefined, 'both NICs out of the renamed container', 10_000);
    expect(await hostNicLinks()).toBe(0);
    // the reconciles that took them out (and the kernel events of that) are done by now
    await new Promise((r) => setTimeout(r, 2000));
    expect.soft(await heals(), 'a NIC taken out of a container renamed away is no heal').toEqual(before);
    expect(messages).toEqual({ 'life-v': want, 'life-m': want });
    // the message stays while the container keeps its new name: its restart wakes the NICs
    // (their status still names it), and their reconciles tell the same
    await docker(h1(), ['restart', '-t', '0', 'life-renamed']);
    await new Promise((r) => setTimeout(r, 2000));
    for (const n of NICS) expect((await ready(n))?.message, n).toBe(want);
    expect(await links('life-renamed')).toEqual([]);
  }

  it('two NICs of the container both set defaultRoute (one names it by id, which xctl cannot match): one keeps it, the other says DefaultRouteConflict, no flapping', async () => {
    const edit = async (name: string, change: (s: ContainerNic['spec']) => ContainerNic['spec']) => {
      const nic = (await lab.store.get('ContainerNic', name)) as ContainerNic;
      await lab.store.update({ ...nic, spec: change(nic.spec) } as ContainerNic);
    };
    await edit('life-v', (s) => ({ ...s, defaultRoute: true }));
    await eventually(async () => (await inContainerNetns(h1(), 'life', ['ip', 'route', 'show', 'default'])).stdout.includes('default via 10.76.1.1 dev eth1 proto 76 '), 'eth1 the default route', 30_000);
    const id = await idOf();
    await edit('life-m', (s) => ({ ...s, container: id, defaultRoute: true }));
    await eventually(async () => (await ready('life-m'))?.reason === 'DefaultRouteConflict' ? true : undefined, 'life-m DefaultRouteConflict', 30_000);
    // the container's default route stays put: no route event for 3 s
    const mon = await inContainerNetns(h1(), 'life', ['timeout', '3', 'ip', 'monitor', 'route']);
    expect(mon.stdout.trim()).toBe('');
    expect((await inContainerNetns(h1(), 'life', ['ip', 'route', 'show', 'default'])).stdout).toMatch(/^default via 10\.76\.1\.1 dev eth1 proto 76 /);
    expect((await ready('life-v'))?.status).toBe('True');
    // the first gives it up: the second takes it
    await edit('life-v', (s) => ({ ...s, defaultRoute: false }));
    await eventually(async () => (await inContainerNetns(h1(), 'life', ['ip', 'route', 'show', 'default'])).stdout.includes('default via 192.168.231.1 dev eth2 proto 76 '), 'eth2 the default route', 30_000);
    await eventually(async () => (await ready('life-m'))?.status === 'True' ? true : undefined, 'life-m Ready', 30_000);
  });

  it('a Docker network connected later, which Docker names eth1 (an xnet NIC\'s name): Docker refuses it, both NICs stay whole', async () => {
    await docker(h1(), ['network', 'create', 'side9', '--subnet', '172.29.0.0/24']);
    const r = await hostDocker(h1(), ['network', 'connect', 'side9', 'life']);
    // Docker names a container's interfaces by position and does not look for a free name
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('"eth1": file exists');
    await whole(await idOf(), 'after the refused connect');
  });

  it('its dockerd crashed and started again: back once', async () => {
    const pid = await pidOf();
    await crashAndRestartDockerd(h1());
    await eventually(async () => { const p = await pidOf().catch(() => '0'); return p !== '0' && p !== pid ? true : undefined; }, 'life running again', 60_000);
    await whole(await idOf(), 'dockerd crash');
  }, 120_000);
});
