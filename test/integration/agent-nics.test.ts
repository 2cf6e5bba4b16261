// ContainerNics on a ClusterNetwork: a veth pair on the node's bridge, the container end
// moved into the container, renamed, addressed; healed when its host end is deleted, put back
// when the container restarts, removed with the object. Status tells the user why not Ready.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerNic } from '../../pkg/api/index.js';
import { Keys } from '../../pkg/store/keys.js';
import { listEvents } from '../../pkg/events/read.js';
import { vethHostName } from '../../pkg/agent/planner/names.js';
import { breakAndCheck, breakVerified, mustSucceed } from '../harness/heal.js';
import { hostDocker, hostExec } from '../../pkg/lab/index.js';
import { agentLab, allocateNic, createDefaultNetwork, docker, eventually, inContainer, inContainerNetns, obj, readyCondition, runContainer, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;

const ready = (name: string) => readyCondition(lab.store, 'ContainerNic', name);
const eth1 = async (container: string) => (await inContainer(lab.hosts[0], container, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).stdout;
const allocate = (name: string, ip: string) => allocateNic(lab.store, name, ip);
/** The reasons of the NIC's events, oldest first, as `xctl get events --for` lists them. */
const eventReasons = async (name: string) => (await listEvents(lab.client, '/xnet', { kind: 'ContainerNic', name })).items.map((e) => e.reason);

beforeAll(async () => {
  lab = await agentLab(2);
  await createDefaultNetwork(lab.store);
  await Promise.all(lab.hosts.map((h) => lab.startAgent(h)));
  // "test" sits on Docker's default bridge only; xnet gives it a second NIC on net1's bridge.
  await runContainer(lab.hosts[0], 'test');
  await runContainer(lab.hosts[1], 'peer', ['--net', 'net1', '--ip', '10.76.2.83']);
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: ContainerNics on a ClusterNetwork', () => {
  it('waits for the controller\'s address, then puts eth1 into the container with the address and MAC', async () => {
    await lab.store.create(obj('ContainerNic', 'test-eth1', { node: 'host-1', container: 'test', ifName: 'eth1', network: { clusterNetwork: 'default' }, mac: '02:42:0a:4c:01:54' }));
    await eventually(async () => (await ready('test-eth1'))?.reason === 'NoAddress', 'NoAddress');
    await allocate('test-eth1', '10.76.1.84');
    await eventually(async () => (await ready('test-eth1'))?.status === 'True', 'Ready');
    expect(await eth1('test')).toContain('inet 10.76.1.84/24');
    expect((await inContainer(lab.hosts[0], 'test', ['cat', '/sys/class/net/eth1/address'])).stdout.trim()).toBe('02:42:0a:4c:01:54');
    const nic = (await lab.store.get('ContainerNic', 'test-eth1')) as ContainerNic;
    expect(nic.status).toMatchObject({ ip: '10.76.1.84', hostInterface: vethHostName('test-eth1'), mac: '02:42:0a:4c:01:54' });
    // Its host end carries the NIC's mark: only so marked links are ever adopted or deleted.
    expect(await sh(lab.hosts[0], ['ip', '-d', 'link', 'show', vethHostName('test-eth1')])).toContain('alias xnet:nic:test-eth1');
    // The host end is a port of br01: the container is reachable from the other host.
    expect((await inContainer(lab.hosts[1], 'peer', ['ping', '-c', '2', '-W', '2', '10.76.1.84'])).stdout).toContain('2 packets received');
  });

  it('says why a NIC is not ready when its container does not exist', async () => {
    await lab.store.create(obj('ContainerNic', 'ghost-eth1', { node: 'host-1', container: 'ghost', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await allocate('ghost-eth1', '10.76.1.85');
    const c = await eventually(async () => { const r = await ready('ghost-eth1'); return r?.reason === 'ContainerNotFound' ? r : undefined; }, 'ContainerNotFound');
    expect(c.message).toContain('ghost');
    await lab.store.delete('ContainerNic', 'ghost-eth1');
  });

  it('names the closest network there is when a NIC or HostSubnet names one that does not exist (a typo)', async () => {
    // a MacvlanNet that selects no node: nothing of it is made on any host
    await lab.store.create(obj('MacvlanNet', 'lan200', { subnet: '192.168.200.0/24', nodeSelector: { matchLabels: { rack: 'nowhere' } } }));
    await lab.store.create(obj('ContainerNic', 'typo-eth3', { node: 'host-1', container: 'test', ifName: 'eth3', network: { clusterNetwork: 'defualt' } }));
    await lab.store.create(obj('ContainerNic', 'typo-eth4', { node: 'host-1', container: 'test', ifName: 'eth4', network: { macvlanNet: 'lan-200' } }));
    await lab.store.create(obj('HostSubnet', 'typo-host-1', { node: 'host-1', clusterNetwork: 'defualt' }));
    await allocate('typo-eth3', '10.76.1.91');
    await allocate('typo-eth4', '10.76.1.92');
    const reason = (kind: 'ContainerNic' | 'HostSubnet', name: string, want: string) =>
      eventually(async () => { const r = await readyCondition(lab.store, kind, name); return r?.reason === want ? r : undefined; }, `${name} ${want}`);
    expect((await reason('ContainerNic', 'typo-eth3', 'ClusterNetworkMissing')).message).toBe('ClusterNetwork "defualt" does not exist (did you mean "default"?)');
    expect((await reason('ContainerNic', 'typo-eth4', 'MacvlanNetMissing')).message).toBe('MacvlanNet "lan-200" does not exist (did you mean "lan200"?)');
    expect((await reason('HostSubnet', 'typo-host-1', 'ClusterNetworkMissing')).message).toBe('ClusterNetwork "defualt" does not exist (did you mean "default"?)');
    for (const [kind, name] of [['ContainerNic', 'typo-eth3'], ['ContainerNic', 'typo-eth4'], ['HostSubnet', 'typo-host-1'], ['MacvlanNet', 'lan200']] as const) await lab.store.delete(kind, name);
  });

  it('configures no address its HostSubnet does not hand out (a status written around the controller), and the right one once allocated', async () => {
    await lab.store.create(obj('ContainerNic', 'odd-eth2', { node: 'host-1', container: 'test', ifName: 'eth2', network: { clusterNetwork: 'default' } }));
    // inside the subnet, but in Docker's half: a container of Docker's may hold it
    await allocate('odd-eth2', '10.76.1.200');
    const c = await eventually(async () => { const r = await ready('odd-eth2'); return r?.reason === 'StaleAllocation' ? r : undefined; }, 'StaleAllocation');
    expect(c.message).toContain('status.ip 10.76.1.200 is not an address HostSubnet default-host-1 (10.76.1.0/24) hands out');
    expect((await inContainer(lab.hosts[0], 'test', ['ip', '-o', 'link', 'show'])).stdout).not.toContain('eth2');
    await allocate('odd-eth2', '10.76.1.90');
    await eventually(async () => (await ready('odd-eth2'))?.status === 'True', 'Ready');
    expect((await inContainer(lab.hosts[0], 'test', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth2'])).stdout).toContain('inet 10.76.1.90/24');
    await lab.store.delete('ContainerNic', 'odd-eth2');
    await eventually(async () => !(await inContainer(lab.hosts[0], 'test', ['ip', '-o', 'link', 'show'])).stdout.includes('eth2'), 'eth2 removed');
  });

  it('attaches a NIC whose container starts later, and reports it as attached, not as a heal', async () => {
    await lab.store.create(obj('ContainerNic', 'late-eth1', { node: 'host-1', container: 'late', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await allocate('late-eth1', '10.76.1.86');
    await eventually(async () => (await ready('late-eth1'))?.reason === 'ContainerNotFound', 'ContainerNotFound');
    await runContainer(lab.hosts[0], 'late');
    await eventually(async () => (await ready('late-eth1'))?.status === 'True', 'Ready', 20_000);
    const reasons = await eventually(async () => { const r = await eventReasons('late-eth1'); return r.includes('Attached') ? r : undefined; }, 'Attached event');
    // the container's start is the first time the NIC could be made: nothing drifted
    expect(reasons).not.toContain('Healed');
    await lab.store.delete('ContainerNic', 'late-eth1');
  }, 60_000);

  // The heals below come from events only: the agents run with their resync an hour away
  // (agent-harness), and each wait is a few seconds (breakAndCheck).
  const MAC = '02:42:0a:4c:01:54';
  const nicWhole = async () => (await eth1('test')).includes('10.76.1.84/24');
  const host1 = (argv: string[]) => hostExec(lab.hosts[0], argv);
  const inTest = (argv: string[]) => inContainerNetns(lab.hosts[0], 'test', argv);

  it('writes its report of a NIC again when someone deletes it (e.g. an etcd restored from an older backup)', async () => {
    const key = new Keys('/xnet').status('ContainerNic', 'test-eth1', { node: 'host-1' });
    expect((await ready('test-eth1'))?.status).toBe('True');
    // proven by the delete's own answer: a second read races the agent, which hears its key go
    // and writes it again (in 80 tries, 40 of them at load 8, it never won, but nothing stops it)
    expect((await lab.client.delete().key(key)).deleted, 'the report was there and is gone').toBe('1');
    // the agent heard its own key go; nothing else changed, and the resync is an hour away
    await eventually(async () => (await ready('test-eth1'))?.status === 'True', 'the report written again', 10_000);
    const back = JSON.parse((await lab.client.get(key).string()) ?? '{}') as { conditions?: Array<{ type: string; status: string }> };
    expect(back.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('makes the NIC again when its host end is deleted by hand', async () => {
    const veth = vethHostName('test-eth1');
    await breakAndCheck('NIC host end deleted', {
      whole: nicWhole,
      breakIt: () => breakVerified(host1, ['ip', 'link', 'del', veth], { argv: ['ip', '-o', 'link', 'show'], gone: `${veth}@` }),
    });
    expect((await sh(lab.hosts[0], ['ip', '-o', 'link', 'show', 'master', 'br01']))).toContain(veth);
  });

  it('puts back an address deleted by hand inside the container, at once (not at the resync)', async () => {
    // As root in the container's namespace: `docker exec` lacks NET_ADMIN and could not delete it.
    await breakAndCheck('address deleted in the container', {
      whole: nicWhole,
      breakIt: () => breakVerified(inTest, ['ip', 'addr', 'del', '10.76.1.84/24', 'dev', 'eth1'], { argv: ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'], gone: '10.76.1.84/24' }),
    });
  });

  it('gives a restarted container its NIC back, with the same MAC', async () => {
    const startedAt = () => docker(lab.hosts[0], ['inspect', '-f', '{{.State.StartedAt}}', 'test']);
    const before = await startedAt();
    await breakAndCheck('container restarted', {
      whole: nicWhole,
      breakIt: async () => {
        mustSucceed('docker restart', await hostDocker(lab.hosts[0], ['restart', '-t', '0', 'test']));
        expect(await startedAt()).not.toBe(before);
      },
    });
    expect((await inContainer(lab.hosts[0], 'test', ['cat', '/sys/class/net/eth1/address'])).stdout.trim()).toBe(MAC);
    expect((await inContainer(lab.hosts[1], 'peer', ['ping', '-c', '1', '-W', '2', '10.76.1.84'])).stdout).toContain('1 packets received');
    // a NIC that was in place and came back is a heal (unlike a first attach, above)
    await eventually(async () => (await eventReasons('test-eth1')).includes('Healed'), 'Healed event of test-eth1');
  });

  it('keeps the MAC Docker\'s convention gives a NIC without one across a container restart', async () => {
    await runContainer(lab.hosts[0], 'test3');
    await lab.store.create(obj('ContainerNic', 'test3-eth1', { node: 'host-1', container: 'test3', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await allocate('test3-eth1', '10.76.1.87');
    await eventually(async () => (await ready('test3-eth1'))?.status === 'True', 'Ready');
    const mac = async () => (await inContainer(lab.hosts[0], 'test3', ['cat', '/sys/class/net/eth1/address'])).stdout.trim();
    // 02:42 + the IPv4 address (docs/choices.md), not a random one
    expect(await mac()).toBe('02:42:0a:4c:01:57');
    await docker(lab.hosts[0], ['restart', '-t', '0', 'test3']);
    await eventually(async () => (await inContainer(lab.hosts[0], 'test3', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).stdout.includes('10.76.1.87/24'), 'NIC back', 20_000);
    expect(await mac()).toBe('02:42:0a:4c:01:57');
    await lab.store.delete('ContainerNic', 'test3-eth1');
  }, 120_000);

  it('makes the NIC the container\'s default route when asked', async () => {
    await runContainer(lab.hosts[0], 'test2');
    await lab.store.create(obj('ContainerNic', 'test2-eth1', { node: 'host-1', container: 'test2', ifName: 'eth1', network: { clusterNetwork: 'default' }, defaultRoute: true }));
    await allocate('test2-eth1', '10.76.1.86');
    await eventually(async () => (await ready('test2-eth1'))?.status === 'True', 'Ready');
    expect((await inContainer(lab.hosts[0], 'test2', ['ip', 'route', 'show', 'default'])).stdout).toContain('default via 10.76.1.1 dev eth1');
    // Replies to the other host now leave through eth1 as well.
    expect((await inContainer(lab.hosts[1], 'peer', ['ping', '-c', '1', '-W', '2', '10.76.1.86'])).stdout).toContain('1 packets received');
  });

  it('removes the NIC and its status when the object is deleted', async () => {
    await lab.store.delete('ContainerNic', 'test-eth1');
    await eventually(async () => (await inContainer(lab.hosts[0], 'test', ['ip', 'link', 'show', 'eth1'])).exitCode !== 0, 'NIC gone');
    expect(await sh(lab.hosts[0], ['ip', '-o', 'link', 'show'])).not.toContain(vethHostName('test-eth1'));
    await eventually(async () => (await lab.client.get(new Keys('/xnet').status('ContainerNic', 'test-eth1', { node: 'host-1' })).string()) === null, 'status key gone');
  });
});
