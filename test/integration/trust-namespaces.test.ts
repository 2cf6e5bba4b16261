// Only what xnet made: a ContainerNic naming a container that shares the host's network
// namespace (--network host, --network container:X) is refused and the host is left exactly
// as it was; an interface of the NIC's name that xnet did not mark is neither adopted nor
// removed. Real etcd, a real namespace host with its own dockerd.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateNic, docker, oneHostAgentLab, eventually, inContainerNetns, obj, readyCondition, runContainer, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
beforeAll(async () => { lab = await oneHostAgentLab(); }, 240_000);
afterAll(async () => { await lab?.down(); }, 120_000);

/** Everything of the host's network state a NIC could touch, as text. */
async function hostSnapshot(): Promise<string> {
  const h = lab.hosts[0];
  const parts = await Promise.all([
    sh(h, ['ip', '-d', 'link', 'show']), sh(h, ['ip', 'addr', 'show']), sh(h, ['ip', 'route', 'show', 'table', 'all']),
    sh(h, ['sh', '-c', 'for f in /proc/sys/net/ipv4/conf/*/arp_ignore /proc/sys/net/ipv4/conf/*/arp_announce /proc/sys/net/ipv4/ip_forward; do echo "$f $(cat $f)"; done']),
  ]);
  // address lifetimes and the bridges' running timers tick on their own: not state xnet could change
  return parts.join('\n---\n').replace(/valid_lft .*|preferred_lft .*/g, '').replace(/(\w+_timer)\s+[\d.]+/g, '$1');
}

const reason = async (name: string) => (await readyCondition(lab.store, 'ContainerNic', name))?.reason;

describe('containers without a namespace of their own', () => {
  it('a --network host container: Ready=False HostNetworkContainer, the host byte-for-byte the same', async () => {
    const h = lab.hosts[0];
    await runContainer(h, 'hostnet', ['--network', 'host']);
    // settle: the agent's first pass is done and nothing else is in flight
    await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', 'default-host-1'))?.status === 'True', 'HostSubnet Ready');
    // and the kernel's own: an IPv6 address still in duplicate address detection turns from
    // tentative to usable (and gains its local route) on its own, seconds after its link came up
    await eventually(async () => !(await sh(h, ['ip', '-6', 'addr', 'show'])).includes('tentative'), 'no IPv6 address tentative');
    const before = await hostSnapshot();
    await lab.store.create(obj('ContainerNic', 'hostnet-eth1', { node: 'host-1', container: 'hostnet', ifName: 'eth1', network: { clusterNetwork: 'default' }, defaultRoute: true }));
    await allocateNic(lab.store, 'hostnet-eth1', '10.76.1.90');
    await eventually(async () => (await reason('hostnet-eth1')) === 'HostNetworkContainer', 'HostNetworkContainer');
    const c = await readyCondition(lab.store, 'ContainerNic', 'hostnet-eth1');
    expect(c?.message).toContain('--network host');
    // the agent keeps looking (events, resync): still nothing changes
    await new Promise((r) => setTimeout(r, 2000));
    expect(await hostSnapshot()).toBe(before);
    await lab.store.delete('ContainerNic', 'hostnet-eth1');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await hostSnapshot()).toBe(before);
  });

  it('a --network container:X container is refused too', async () => {
    const h = lab.hosts[0];
    await runContainer(h, 'owner');
    await runContainer(h, 'guest', ['--network', 'container:owner']);
    await lab.store.create(obj('ContainerNic', 'guest-eth1', { node: 'host-1', container: 'guest', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'guest-eth1', '10.76.1.91');
    await eventually(async () => (await reason('guest-eth1')) === 'HostNetworkContainer', 'HostNetworkContainer');
    expect((await inContainerNetns(h, 'owner', ['ip', '-o', 'link', 'show'])).stdout).not.toContain('eth1');
  });

  it('an eth1 that xnet did not make is neither adopted nor removed', async () => {
    const h = lab.hosts[0];
    await runContainer(h, 'mine');
    // a veth whose container end is named eth1, made by someone else (no xnet mark)
    const pid = await docker(h, ['inspect', '-f', '{{.State.Pid}}', 'mine']);
    await sh(h, ['ip', 'link', 'add', 'otherveth', 'type', 'veth', 'peer', 'name', 'oth1']);
    await sh(h, ['ip', 'link', 'set', 'oth1', 'netns', pid]);
    await inContainerNetns(h, 'mine', ['ip', 'link', 'set', 'oth1', 'name', 'eth1']);
    await lab.store.create(obj('ContainerNic', 'mine-eth1', { node: 'host-1', container: 'mine', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await allocateNic(lab.store, 'mine-eth1', '10.76.1.92');
    await eventually(async () => (await reason('mine-eth1')) === 'InterfaceNameTaken', 'InterfaceNameTaken');
    await lab.store.delete('ContainerNic', 'mine-eth1');
    await new Promise((r) => setTimeout(r, 1500));
    const links = (await inContainerNetns(h, 'mine', ['ip', '-o', 'link', 'show', 'eth1'])).stdout;
    expect(links).toContain('eth1');
    expect(links).not.toContain('10.76.1.92');
  });
});
