// A Docker network under a HostSubnet's network name that is labelled for another xnet object
// is that object's, not this HostSubnet's: reported as a name conflict, never removed or made
// again (before, any io.xnet.owner label made it "xnet's own" and it was recreated). Nor is a
// network labelled for nothing this node serves xnet's to the NAT pass: its traffic inside a
// ClusterNetwork's CIDR goes back to Docker's chains, as an unlabelled one's does. A network
// of another driver carrying the HostSubnet's own label is not its network either. And a
// network labelled for a HostSubnet gone from this node is removed only when this node recorded
// making it (pkg/agent/network-record.ts): a user's so labelled stays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostExec, type LabHost } from '../../pkg/lab/index.js';
import { docker, eventually, obj, oneHostAgentLab, readyCondition, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;

beforeAll(async () => {
  lab = await oneHostAgentLab();
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: a Docker network labelled for another xnet object', () => {
  it('is a NetworkConflict on the HostSubnet that wants its name, and stays as it is', async () => {
    const h = lab.hosts[0];
    // labelled for another xnet object (one no pass removes networks of: a HostSubnet's network
    // under a name it no longer wants, or a gone MacvlanNet's, is xnet's leftover and goes when
    // this node recorded making it),
    // under the name a second ClusterNetwork's HostSubnet wants
    await docker(h, ['network', 'create', '--subnet', '10.78.9.0/24', '--label', 'io.xnet.owner=ClusterNetwork/default', 'othernet']);
    // the pass that reports the conflict has run: the network is still the one made above
    await conflictKeepsOthernet(h, 'ClusterNetwork/default');
  }, 90_000);

  it('a user\'s network inside the ClusterNetwork\'s CIDR labelled for something else keeps Docker\'s chains: its traffic is returned', async () => {
    const h = lab.hosts[0];
    // labelled, but for nothing this node serves (a label is anyone's to write)
    await docker(h, ['network', 'create', '--subnet', '10.76.200.0/24', '-o', 'com.docker.network.bridge.name=ubr76', '--label', 'io.xnet.owner=whatever', 'usernet76']);
    const forward = async () => (await sh(h, ['iptables', '-t', 'filter', '-S', 'XNET-FORWARD'])).split('\n').filter(Boolean);
    try {
      await eventually(async () => (await forward()).includes('-A XNET-FORWARD -s 10.76.200.0/24 -i ubr76 -j RETURN'), 'usernet76 returned to Docker\'s chains', 15_000)
        .catch(async (e) => { throw new Error(`${(e as Error).message}; XNET-FORWARD: ${JSON.stringify(await forward())}`); });
      expect(await forward()).toContain('-A XNET-FORWARD -d 10.76.200.0/24 -o ubr76 -j RETURN');
      // xnet's own network of this node's HostSubnet is never returned
      expect((await forward()).filter((r) => r.includes('RETURN') && r.includes('br01') && !r.includes('-i br01 -o br01'))).toEqual([]);
    } finally {
      await docker(h, ['network', 'rm', 'usernet76']).catch(() => undefined);
    }
  }, 90_000);

  it('a network of another driver under a HostSubnet\'s network name, labelled for that very HostSubnet, is a NetworkConflict and stays as it is', async () => {
    const h = lab.hosts[0];
    // a user's ipvlan network (on a veth of its own) carrying exactly xnet's label
    await hostExec(h, ['ip', 'link', 'add', 'xow0', 'type', 'veth', 'peer', 'name', 'xow1'], { check: true });
    await docker(h, ['network', 'create', '-d', 'ipvlan', '-o', 'parent=xow0', '--subnet', '10.78.9.0/24', '--label', 'io.xnet.owner=HostSubnet/other-host-1', 'othernet']);
    try {
      await conflictKeepsOthernet(h, 'Docker network othernet exists and is labelled io.xnet.owner=HostSubnet/other-host-1 but its driver is ipvlan');
    } finally {
      await hostExec(h, ['ip', 'link', 'del', 'xow0']);
    }
  }, 90_000);

  it('of the networks labelled for HostSubnets gone while the agent was down, only the one this node recorded making goes: a user\'s so labelled stays', async () => {
    const h = lab.hosts[0];
    const id = async (name: string) => (await docker(h, ['network', 'ls', '--filter', `name=^${name}$`, '--format', '{{.ID}}'])).trim();
    try {
      await lab.store.create(obj('ClusterNetwork', 'other', { cidr: '10.78.0.0/16', hostPrefix: 24, dockerNetwork: 'othernet' }));
      await lab.store.create(obj('HostSubnet', 'other-host-1', { node: 'host-1', clusterNetwork: 'other', subnet: '10.78.1.0/24', bridge: 'br78', dockerRange: '10.78.1.128/25' }));
      await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', 'other-host-1'))?.status === 'True', 'other-host-1 Ready', 15_000);
      expect(await id('othernet')).not.toBe('');
      // xnet's network of other-host-1 is left over by a delete the agent does not see; meanwhile
      // a user makes a network labelled for a HostSubnet that could exist (a valid name), with no container on it
      await lab.stopAgent(h);
      await lab.store.delete('HostSubnet', 'other-host-1');
      await docker(h, ['network', 'create', '--subnet', '10.79.99.0/24', '--label', 'io.xnet.owner=HostSubnet/ghost-host-1', 'ghostnet']);
      const users = await id('ghostnet');
      expect(users).not.toBe('');
      await lab.startAgent(h);
      await eventually(async () => (await id('othernet')) === '', 'othernet (xnet\'s leftover) removed', 15_000);
      // the pass that removed xnet's leftover left the user's network as it was
      expect(await id('ghostnet')).toBe(users);
    } finally {
      await lab.store.delete('HostSubnet', 'other-host-1').catch(() => undefined);
      await lab.store.delete('ClusterNetwork', 'other').catch(() => undefined);
      await docker(h, ['network', 'rm', 'othernet']).catch(() => undefined);
      await docker(h, ['network', 'rm', 'ghostnet']).catch(() => undefined);
    }
  }, 120_000);

  it('a HostSubnet replaced by one of another name takes over the network name: the gone one\'s network is removed and made anew', async () => {
    const h = lab.hosts[0];
    const label = async () => (await docker(h, ['network', 'inspect', 'net1', '--format', '{{index .Labels "io.xnet.owner"}}'])).trim();
    expect(await label()).toBe('HostSubnet/default-host-1');
    // while the agent is down: it finds net1 of a gone HostSubnet under the name the new one wants
    await lab.stopAgent(h);
    const old = await lab.store.get('HostSubnet', 'default-host-1');
    await lab.store.delete('HostSubnet', 'default-host-1');
    await lab.store.create(obj('HostSubnet', 'successor-host-1', { ...(old!.spec as object) }));
    await lab.startAgent(h);
    await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', 'successor-host-1'))?.status === 'True', 'successor-host-1 Ready', 15_000).catch(async (e) => {
      throw new Error(`${(e as Error).message}; Ready: ${JSON.stringify(await readyCondition(lab.store, 'HostSubnet', 'successor-host-1'))}`);
    });
    expect(await label()).toBe('HostSubnet/successor-host-1');
  }, 90_000);
});

/**
 * With the user's `othernet` on host-1, a ClusterNetwork `other` whose HostSubnet on host-1
 * wants that name: its Ready says NetworkConflict with `message`, and `othernet` is still the
 * very network made (by id). Removes what it made, and `othernet`, whatever happens.
 */
async function conflictKeepsOthernet(h: LabHost, message: string): Promise<void> {
  const id = async () => (await docker(h, ['network', 'ls', '--filter', 'name=^othernet$', '--format', '{{.ID}}'])).trim();
  const before = await id();
  expect(before).not.toBe('');
  try {
    await lab.store.create(obj('ClusterNetwork', 'other', { cidr: '10.78.0.0/16', hostPrefix: 24, dockerNetwork: 'othernet' }));
    await lab.store.create(obj('HostSubnet', 'other-host-1', { node: 'host-1', clusterNetwork: 'other', subnet: '10.78.1.0/24', bridge: 'br78', dockerRange: '10.78.1.128/25' }));
    const c = await eventually(async () => {
      const r = await readyCondition(lab.store, 'HostSubnet', 'other-host-1');
      return r?.status === 'False' && r.reason === 'NetworkConflict' ? r : undefined;
    }, 'other-host-1 NetworkConflict', 15_000).catch(async (e) => {
      throw new Error(`${(e as Error).message}; Ready: ${JSON.stringify(await readyCondition(lab.store, 'HostSubnet', 'other-host-1'))}; othernet: ${await id()} (was ${before})`);
    });
    expect(c.message).toContain(message);
    expect(await id()).toBe(before);
  } finally {
    await lab.store.delete('HostSubnet', 'other-host-1').catch(() => undefined);
    await lab.store.delete('ClusterNetwork', 'other').catch(() => undefined);
    await docker(h, ['network', 'rm', 'othernet']).catch(() => undefined);
  }
}
