// An operator's typo in spec.node (host1 for host-1): xctl accepts it (the node may join later),
// so the object's status must say that no such Node exists, not only "waiting for the agent",
// and stop saying it once the Node is there.
import { describe, it, expect } from 'vitest';
import { getCondition, type AnyObject } from '../../pkg/api/index.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const ready = (o: AnyObject | undefined) => getCondition(statusOf(o).conditions as never, 'Ready') as { reason?: string; message?: string } | undefined;

describe('objects bound to a node that does not exist', () => {
  const f = useControllerFixture(uniquePrefix(), { addressCooldownMs: 0 });
  const readyOf = (kind: string, name: string) => async () => ready(await f.store.get(kind as never, name));
  const until = (kind: string, name: string, match: RegExp, what: string) =>
    eventually(async () => { const r = await readyOf(kind, name)(); return r?.message && match.test(r.message) ? r : undefined; }, what, 10_000);

  it('say in their Ready condition that no Node of that name exists, until one does', async () => {
    await f.store.applyAll([
      obj('ClusterNetwork', 'cn', { cidr: '10.76.0.0/16', hostPrefix: 24 }),
      obj('MacvlanNet', 'mv', { subnet: '192.168.200.0/24' }),
      obj('Node', 'host-1', { address: '198.18.0.11' }),
      obj('ContainerNic', 'on-cn', { node: 'host1', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'cn' } }),
      obj('ContainerNic', 'on-mv', { node: 'host1', container: 'web', ifName: 'eth2', network: { macvlanNet: 'mv' } }),
      obj('HostSubnet', 'pinned', { node: 'host2', clusterNetwork: 'cn', subnet: '10.76.200.0/24' }),
    ]);
    const missing = (n: string) => new RegExp(`no Node "${n}" exists.*spec\\.node`);
    expect(await until('ContainerNic', 'on-cn', missing('host1'), 'on-cn says host1 is missing')).toMatchObject({ reason: 'WaitingForHostSubnet' });
    // a MacvlanNet's NIC takes no address until its Node exists (controller/nic-node-gate.ts)
    expect(await until('ContainerNic', 'on-mv', missing('host1'), 'on-mv says host1 is missing')).toMatchObject({ reason: 'NodeNotFound' });
    expect(await until('HostSubnet', 'pinned', missing('host2'), 'pinned says host2 is missing')).toMatchObject({ reason: 'WaitingForAgent' });
    // the closest Node named, as xctl verify names it
    expect((await readyOf('ContainerNic', 'on-cn')())?.message).toMatch(/; no Node "host1" exists \(did you mean "host-1"\?\): check spec\.node$/);
    // the Node comes (an admin made it before its agent): the messages stop blaming spec.node
    await f.store.applyAll([obj('Node', 'host1', { address: '198.18.0.21' }), obj('Node', 'host2', { address: '198.18.0.22' })]);
    const waiting = /^waiting for the agent of node "host\d" [^;]*$/;
    await until('ContainerNic', 'on-cn', waiting, 'on-cn waits for host1\'s agent');
    await until('ContainerNic', 'on-mv', waiting, 'on-mv waits for host1\'s agent');
    await until('HostSubnet', 'pinned', waiting, 'pinned waits for host2\'s agent');
    for (const [k, n] of [['ContainerNic', 'on-cn'], ['ContainerNic', 'on-mv'], ['HostSubnet', 'pinned']]) expect((await readyOf(k, n)())?.message).not.toMatch(/no Node/);
  });
});

describe('a ClusterNetwork whose nodeSelector matches no Node', () => {
  const f = useControllerFixture(uniquePrefix());

  it('says so in its Ready message (a label typo), and stops once a Node matches', async () => {
    await f.store.applyAll([
      obj('Node', 'host-1', { address: '198.18.0.11' }),
      obj('ClusterNetwork', 'picky', { cidr: '10.90.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { rack: 'r9' } } }),
    ]);
    const msg = async () => ready(await f.store.get('ClusterNetwork', 'picky'))?.message;
    await eventually(async () => /no Node matches nodeSelector rack=r9/.test((await msg()) ?? ''), 'picky says no Node matches', 10_000);
    await f.store.applyAll([obj('Node', 'host-1', { address: '198.18.0.11' }, { rack: 'r9' })]);
    await eventually(async () => /^1 of 256 \/24 blocks allocated/.test((await msg()) ?? ''), 'picky allocates for host-1', 10_000);
    expect(await msg()).not.toMatch(/no Node/);
  });
});

describe('a ContainerNic on a node its ClusterNetwork does not select', () => {
  const f = useControllerFixture(uniquePrefix());

  it('says the node is not selected (not only "no HostSubnet yet"), until it is', async () => {
    await f.store.applyAll([
      obj('Node', 'host-1', { address: '198.18.0.11' }, { zone: 'blue' }),
      obj('ClusterNetwork', 'red', { cidr: '10.90.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { zone: 'red' } } }),
      obj('ContainerNic', 'web-eth1', { node: 'host-1', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'red' } }),
    ]);
    const allocated = async () => getCondition(statusOf(await f.store.get('ContainerNic', 'web-eth1')).conditions as never, 'Allocated') as { status?: string; reason?: string; message?: string } | undefined;
    const until = (match: RegExp, what: string) => eventually(async () => { const c = await allocated(); return c?.message && match.test(c.message) ? c : undefined; }, what, 10_000);
    expect(await until(/ClusterNetwork "red" does not select node "host-1" \(nodeSelector zone=red; the node's labels: zone=blue\)/, 'web-eth1 says host-1 is not selected'))
      .toMatchObject({ reason: 'WaitingForHostSubnet' });
    await f.store.applyAll([obj('Node', 'host-1', { address: '198.18.0.11' }, { zone: 'red' })]);
    await eventually(async () => (await allocated())?.status === 'True' || undefined, 'web-eth1 gets an address once host-1 is selected', 10_000);
  });
});

describe('objects naming a network that does not exist', () => {
  const f = useControllerFixture(uniquePrefix());

  it('name the closest one that does (a typo)', async () => {
    await f.store.applyAll([
      obj('ClusterNetwork', 'pods', { cidr: '10.76.0.0/16', hostPrefix: 24 }),
      obj('MacvlanNet', 'lan200', { subnet: '192.168.200.0/24' }),
      obj('Node', 'host-1', { address: '198.18.0.11' }),
      obj('ContainerNic', 'to-pod', { node: 'host-1', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'pod' } }),
      obj('ContainerNic', 'to-lan', { node: 'host-1', container: 'web', ifName: 'eth2', network: { macvlanNet: 'lan-200' } }),
      obj('HostSubnet', 'by-hand', { node: 'host-1', clusterNetwork: 'podz' }),
    ]);
    const msg = async (k: string, n: string) => ready(await f.store.get(k as never, n))?.message ?? '';
    await eventually(async () => (await msg('ContainerNic', 'to-pod')) === 'ClusterNetwork "pod" does not exist (did you mean "pods"?)', 'to-pod names pods', 10_000);
    await eventually(async () => (await msg('ContainerNic', 'to-lan')) === 'MacvlanNet "lan-200" does not exist (did you mean "lan200"?)', 'to-lan names lan200', 10_000);
    await eventually(async () => (await msg('HostSubnet', 'by-hand')) === 'ClusterNetwork "podz" does not exist (did you mean "pods"?)', 'by-hand names pods', 10_000);
    // the networks change under them: the hint follows (it named "pods" for good before)
    await f.store.applyAll([obj('ClusterNetwork', 'pode', { cidr: '10.77.0.0/16', hostPrefix: 24 })]);
    await f.store.delete('ClusterNetwork', 'pods');
    await eventually(async () => (await msg('ContainerNic', 'to-pod')) === 'ClusterNetwork "pod" does not exist (did you mean "pode"?)', 'to-pod names pode', 10_000);
    await eventually(async () => (await msg('HostSubnet', 'by-hand')) === 'ClusterNetwork "podz" does not exist (did you mean "pode"?)', 'by-hand names pode', 10_000);
  });
});

describe('a MacvlanNet whose spec.nodes names no Node', () => {
  const f = useControllerFixture(uniquePrefix());

  it('says so in its Ready message (True/False as before), until the Node joins, and again once it goes', async () => {
    await f.store.applyAll([
      obj('Node', 'host-1', { address: '198.18.0.11' }),
      obj('Node', 'host-2', { address: '198.18.0.12' }),
      obj('MacvlanNet', 'lan', { subnet: '192.168.210.0/24', nodes: [{ name: 'host2', parent: 'enp0s5' }] }),
    ]);
    const readyOfLan = async () => ready(await f.store.get('MacvlanNet', 'lan')) as { status?: string; reason?: string; message?: string } | undefined;
    const until = (match: (m: string) => boolean, what: string) =>
      eventually(async () => { const r = await readyOfLan(); return r?.message && match(r.message) ? r : undefined; }, what, 10_000);
    const typo = 'spec.nodes names no Node "host2" (did you mean "host-2"?): its override applies to no node until a node of that name joins; check spec.nodes[].name';
    // no agent runs: not ready on either node, and the override's typo is named besides
    expect(await until((m) => m.endsWith(`; ${typo}`), 'lan names host2 as no Node')).toMatchObject({ status: 'False', reason: 'NodesNotReady' });
    expect((await readyOfLan())?.message).toMatch(/^not ready on host-1, host-2: waiting for the node's agent; /);
    await f.store.applyAll([obj('Node', 'host2', { address: '198.18.0.21' })]);
    const joined = await until((m) => !m.includes('no Node'), 'lan stops naming host2 once its Node exists');
    expect(joined).toMatchObject({ status: 'False', reason: 'NodesNotReady', message: 'not ready on host-1, host-2, host2: waiting for the node\'s agent' });
    await f.store.delete('Node', 'host2');
    expect(await until((m) => m.endsWith(`; ${typo}`), 'lan names host2 again once its Node is deleted')).toMatchObject({ status: 'False', reason: 'NodesNotReady' });
  });
});

describe('a MacvlanNet whose spec.nodes names a Node its nodeSelector does not select', () => {
  const f = useControllerFixture(uniquePrefix());

  it('says so in its Ready message, until the node is labelled to match', async () => {
    await f.store.applyAll([
      obj('Node', 'host-1', { address: '198.18.0.11' }, { lan: 'yes' }),
      obj('Node', 'host-3', { address: '198.18.0.13' }),
      obj('MacvlanNet', 'lan2', { subnet: '192.168.212.0/24', nodeSelector: { matchLabels: { lan: 'yes' } }, nodes: [{ name: 'host-3', parent: 'enp0s5' }] }),
    ]);
    const readyOfLan = async () => ready(await f.store.get('MacvlanNet', 'lan2')) as { status?: string; reason?: string; message?: string } | undefined;
    const until = (match: (m: string) => boolean, what: string) =>
      eventually(async () => { const r = await readyOfLan(); return r?.message && match(r.message) ? r : undefined; }, what, 10_000);
    const note = 'spec.nodes names "host-3", which nodeSelector does not select: its override applies to no node until the node is labelled to match; check spec.nodes[].name and the node\'s labels';
    expect(await until((m) => m.endsWith(`; ${note}`), 'lan2 names host-3 as not selected')).toMatchObject({ status: 'False', reason: 'NodesNotReady' });
    expect((await readyOfLan())?.message).toMatch(/^not ready on host-1: waiting for the node's agent; /);
    await f.store.applyAll([obj('Node', 'host-3', { address: '198.18.0.13' }, { lan: 'yes' })]);
    expect(await until((m) => !m.includes('nodeSelector does not select'), 'lan2 stops naming host-3 once it is selected'))
      .toMatchObject({ status: 'False', reason: 'NodesNotReady', message: 'not ready on host-1, host-3: waiting for the node\'s agent' });
  });
});
