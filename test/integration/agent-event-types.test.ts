// The agent tells why an object is not Ready with an event. Waiting for the controller (an
// address, a HostSubnet, a block) is what every new object passes through: a Normal event. What
// a user may act on (an interface name the container already has) is a Warning; what a first
// apply only passes through (a container not made yet) is Normal while young
// (agent-event-settling.test.ts). Real etcd with auth: the agent's
// credentials write its own events subtree only.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { EventRecorder } from '../../pkg/events/recorder.js';
import { listEvents } from '../../pkg/events/read.js';
import { NodeStatusReporter } from '../../pkg/agent/context.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { eventually } from './controller-helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd({ auth: true }); });
afterAll(async () => { await etcd?.stop(); });

describe('the agent\'s events on a NIC that is not Ready', () => {
  it('are Normal while waiting for the controller and Warning for what the user may act on', async () => {
    const client = etcd.auth!.clientAs(await etcd.auth!.addNode('host-1'));
    const rec = new EventRecorder({ client, prefix: '/xnet', source: { component: 'agent', node: 'host-1' } });
    onTestFinished(() => rec.close());
    const status = new NodeStatusReporter(createEtcdStore(client, '/xnet'), 'host-1', rec);
    const admin = etcd.client();
    const objects = createEtcdStore(admin, '/xnet');
    const nic = async (name: string) => objects.create({
      apiVersion: 'xnet.io/v1alpha1', kind: 'ContainerNic', metadata: { name },
      spec: { node: 'host-1', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'default' } },
    } as never);
    await status.write('ContainerNic', await nic('waits'), {}, { status: 'False', reason: 'NoAddress', message: 'waiting for the controller to allocate an address' });
    await status.write('ContainerNic', await nic('waits-hs'), {}, { status: 'False', reason: 'NotAllocated', message: 'waiting for the controller to choose the HostSubnet' });
    await status.write('ContainerNic', await nic('taken'), {}, { status: 'False', reason: 'InterfaceNameTaken', message: 'the container already has an interface eth1 that xnet did not make; choose another ifName' });
    const types = await eventually(async () => {
      const l = (await listEvents(admin, '/xnet')).items;
      return l.length === 3 ? new Map(l.map((e) => [e.involvedObject.name, `${e.type}/${e.reason}`])) : undefined;
    }, 'three events');
    expect(Object.fromEntries(types)).toEqual({ 'waits': 'Normal/NoAddress', 'waits-hs': 'Normal/NotAllocated', 'taken': 'Warning/InterfaceNameTaken' });
    // Ready, then its address released: back to NoAddress, now a Warning (a working NIC went)
    const was = await nic('released');
    await status.write('ContainerNic', was, {}, { status: 'True', reason: 'Converged', message: 'eth1 is in container web' });
    await status.write('ContainerNic', was, {}, { status: 'False', reason: 'NoAddress', message: 'waiting for the controller to allocate an address' });
    const released = await eventually(async () => (await listEvents(admin, '/xnet', { kind: 'ContainerNic', name: 'released' })).items.find((e) => e.reason === 'NoAddress'), 'the released NIC\'s event');
    expect(released.type).toBe('Warning');
  });
});
