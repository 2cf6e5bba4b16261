// A node's parent moved (spec.nodes[].parent) while a container is on the MacvlanNet's Docker
// network: Docker cannot make the network again on the new parent until the container leaves
// (NetworkInUse, docs/api.md), but the node's macvlan ContainerNics move to the new parent at
// once. Found in the lab: the new parent, down, was never brought up (nor made promiscuous),
// since the whole plan was dropped on the network's problem; the NIC on it reported Ready True
// while its link was LOWERLAYERDOWN. Real dockerd, the real controller and agent.
import { describe, expect, it } from 'vitest';
import type { MacvlanNet } from '../../pkg/api/index.js';
import { docker, eventually, obj, readyCondition, runContainer, sh, useMacvlanIpamLab } from './agent-harness.js';

const NET = 'moved';
const SPEC = { subnet: '192.168.215.0/24', gateway: '192.168.215.1', ipRange: '192.168.215.128/25', parent: 'eth0', promiscuous: true };
const env = useMacvlanIpamLab(1, NET, SPEC);

const flags = async (dev: string) => (await sh(env.lab.hosts[0], ['ip', '-o', 'link', 'show', 'dev', dev])).match(/<([^>]*)>/)?.[1].split(',') ?? [];

describe('a parent moved while a container holds the Docker network', () => {
  it('brings the new parent up and promiscuous for the NICs that moved there, and says why the network waits', async () => {
    const h = env.lab.hosts[0];
    // a second interface of the host, down (a veth pair inside the host's namespace)
    await sh(h, ['ip', 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1p']);
    await sh(h, ['ip', 'link', 'set', 'eth1p', 'up']);
    expect(await flags('eth1')).not.toContain('UP');
    await runContainer(h, 'holder', ['--net', NET]);
    await runContainer(h, 'nicc', ['--net', 'none']);
    await env.lab.store.create(obj('ContainerNic', 'nicc-mv', { node: h.name, container: 'nicc', ifName: 'eth1', network: { macvlanNet: NET } }));
    await eventually(async () => (await readyCondition(env.lab.store, 'ContainerNic', 'nicc-mv'))?.status === 'True', 'the NIC Ready on eth0');
    await env.lab.store.applyAll([obj('MacvlanNet', NET, { ...SPEC, nodes: [{ name: h.name, parent: 'eth1' }] })]);
    const part = await eventually(async () => {
      const m = (await env.lab.store.get('MacvlanNet', NET)) as MacvlanNet | undefined;
      const p = (m?.status?.nodes as Array<{ ready?: boolean; message?: string }> | undefined)?.[0];
      return p?.ready === false && p.message?.includes('must be recreated') && p;
    }, 'the node says the network waits for its container');
    expect(part.message).toContain('option parent is eth0, want eth1');
    // the NIC moved to eth1; eth1 is brought up and made promiscuous for it
    const f = await eventually(async () => { const x = await flags('eth1'); return x.includes('UP') && x.includes('PROMISC') && x; }, 'eth1 up and promiscuous', 15_000);
    expect(f).toContain('UP');
    // the container leaves: the network is made on eth1
    await docker(h, ['rm', '-f', 'holder']);
    await eventually(async () => (await docker(h, ['network', 'inspect', '-f', '{{index .Options "parent"}}', NET])) === 'eth1' || undefined, 'the network on eth1');
    await docker(h, ['rm', '-f', 'nicc']);
    await env.lab.store.delete('ContainerNic', 'nicc-mv');
  });
});
