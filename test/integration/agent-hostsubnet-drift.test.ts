// What a node's HostSubnets and forwarding heal from, by events alone: the bridge set down or
// stripped of its gateway address, IPv4 forwarding turned off, the Docker network deleted; one
// HostSubnet Docker refuses keeps no other from its network; a ClusterNetwork's dockerNetwork
// renamed moves the network without a failure. Each heal test breaks the state (checked) and
// waits seconds, far below the agents' resync (an hour here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostExec } from '../../pkg/lab/index.js';
import { breakAndCheck, breakVerified } from '../harness/heal.js';
import { docker, eventually, obj, oneHostAgentLab, readyCondition, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;

beforeAll(async () => {
  lab = await oneHostAgentLab();
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

const bridge = async () => JSON.parse(await sh(lab.hosts[0], ['ip', '-json', 'addr', 'show', 'dev', 'br01']))[0] as
  { flags: string[]; addr_info: Array<{ family: string; local: string; prefixlen: number }> };

describe('agent: HostSubnet bridge, forwarding and Docker network drift', () => {
  it('brings the HostSubnet\'s bridge back up when it is set down by hand', async () => {
    const h = lab.hosts[0];
    await breakAndCheck('bridge set down', {
      whole: async () => (await bridge()).flags.includes('UP'),
      breakIt: () => breakVerified((argv) => hostExec(h, argv), ['ip', 'link', 'set', 'br01', 'down'], { argv: ['ip', 'link', 'show', 'br01'], gone: ',UP' }),
    });
  });

  it('puts back the bridge\'s gateway address when it is deleted by hand', async () => {
    const h = lab.hosts[0];
    await breakAndCheck('gateway address deleted from the bridge', {
      whole: async () => (await bridge()).addr_info.some((a) => a.family === 'inet' && a.local === '10.76.1.1' && a.prefixlen === 24),
      breakIt: () => breakVerified((argv) => hostExec(h, argv), ['ip', 'addr', 'del', '10.76.1.1/24', 'dev', 'br01'], { argv: ['ip', '-4', 'addr', 'show', 'dev', 'br01'], gone: '10.76.1.1/24' }),
    });
  });

  it('turns IPv4 forwarding back on at once when it is turned off (not at the resync)', async () => {
    const h = lab.hosts[0];
    await breakAndCheck('ip_forward=0', {
      whole: async () => (await sh(h, ['sysctl', '-n', 'net.ipv4.ip_forward'])).trim() === '1',
      breakIt: () => breakVerified((argv) => hostExec(h, argv), ['sysctl', '-w', 'net.ipv4.ip_forward=0'], { argv: ['sysctl', '-n', 'net.ipv4.ip_forward'], gone: '1' }),
    });
  });

  it('makes a Docker network deleted by hand again', async () => {
    const h = lab.hosts[0];
    const id = async () => (await docker(h, ['network', 'ls', '--filter', 'name=^net1$', '--format', '{{.ID}}'])).trim();
    const before = await id();
    expect(before).not.toBe('');
    await docker(h, ['network', 'rm', 'net1']);
    await eventually(async () => { const now = await id(); return now !== '' && now !== before; }, 'net1 made again', 10_000);
  }, 30_000);

  it('one HostSubnet whose Docker network cannot be made does not keep the node\'s other HostSubnets from theirs', async () => {
    const h = lab.hosts[0];
    // a user's network on the host where a second ClusterNetwork's HostSubnet wants to be
    await docker(h, ['network', 'create', '--subnet', '10.77.1.0/24', 'usernet']);
    await lab.store.create(obj('ClusterNetwork', 'aaa', { cidr: '10.77.0.0/16', hostPrefix: 24, dockerNetwork: 'aaanet' }));
    await lab.store.create(obj('HostSubnet', 'aaa-host-1', { node: 'host-1', clusterNetwork: 'aaa', subnet: '10.77.1.0/24', bridge: 'br77', dockerRange: '10.77.1.128/25' }));
    await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', 'aaa-host-1'))?.status === 'False', 'aaa-host-1 not Ready', 10_000);
    // a restarted agent lists HostSubnets by key: aaa-host-1 comes before default-host-1
    await lab.stopAgent(h);
    await lab.startAgent(h);
    const nets = async () => (await docker(h, ['network', 'ls', '--format', '{{.Name}}'])).split('\n');
    // by its ID: a healing agent makes net1 again before a `docker network ls` after the rm runs
    const net1 = async () => (await docker(h, ['network', 'ls', '--filter', 'name=^net1$', '--format', '{{.ID}}'])).trim();
    const before = await net1();
    expect(before).not.toBe('');
    await docker(h, ['network', 'rm', 'net1']);
    try {
      await eventually(async () => { const now = await net1(); return now !== '' && now !== before; }, 'net1 made again beside the failing aaa-host-1', 10_000).catch(async (e) => {
        throw new Error(`${(e as Error).message}; default-host-1 Ready: ${JSON.stringify(await readyCondition(lab.store, 'HostSubnet', 'default-host-1'))}; aaa-host-1 Ready: ${JSON.stringify(await readyCondition(lab.store, 'HostSubnet', 'aaa-host-1'))}`);
      });
    } finally {
      // the next test starts from one HostSubnet again
      await lab.store.delete('HostSubnet', 'aaa-host-1');
      await lab.store.delete('ClusterNetwork', 'aaa');
      await docker(h, ['network', 'rm', 'usernet']);
      await eventually(async () => (await nets()).includes('net1'), 'net1 made again once aaa-host-1 is gone', 10_000);
    }
  }, 90_000);

  it('moves the HostSubnet to the new Docker network when the ClusterNetwork\'s dockerNetwork is renamed', async () => {
    const h = lab.hosts[0];
    const cn = await lab.store.get('ClusterNetwork', 'default');
    expect(await docker(h, ['network', 'ls', '--format', '{{.Name}}'])).toContain('net1');
    const was = await readyCondition(lab.store, 'HostSubnet', 'default-host-1');
    expect(was?.status).toBe('True');
    await lab.store.update({ ...cn!, spec: { ...cn!.spec, dockerNetwork: 'net2' } } as never);
    const names = async () => (await docker(h, ['network', 'ls', '--format', '{{.Name}}'])).split('\n');
    const moved = await eventually(async () => {
      const n = await names();
      return n.includes('net2') && !n.includes('net1') ? n : undefined;
    }, 'net2 made and net1 removed', 15_000).catch(async (e) => {
      throw new Error(`${(e as Error).message}; networks: ${(await names()).join(',')}; HostSubnet Ready: ${JSON.stringify(await readyCondition(lab.store, 'HostSubnet', 'default-host-1'))}`);
    });
    expect(moved).toContain('net2');
    const now = await eventually(async () => {
      const c = await readyCondition(lab.store, 'HostSubnet', 'default-host-1');
      return c?.status === 'True' && c.message?.includes('net2') ? c : undefined;
    }, 'HostSubnet Ready on net2', 15_000);
    // Ready throughout: the move is no failure retried (Docker refusing net2 while net1 holds
    // the subnet would have turned it False, and moved lastTransitionTime)
    expect(now.lastTransitionTime).toBe(was!.lastTransitionTime);
  }, 60_000);
});
