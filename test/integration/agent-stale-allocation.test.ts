// A MacvlanNet's ipRange shrunk (198.19.10.64/27 to /28) while a NIC holds .94: the agent sees
// the edit before the controller has moved the NIC. That used to be `Warning InvalidStatus ...
// status.ip 198.19.10.94 is not an address MacvlanNet lan (198.19.10.64/28) hands out`, a
// reason that means a status value that does not decode. It is waiting for the controller:
// StaleAllocation, a Normal event, also on a NIC that was Ready; the address is still not put
// into the container (pkg/agent/nic-address.ts). A status that does not decode is still
// InvalidStatus. Real etcd: the store, the agent's status reporter and its events; the agent's
// own judgement of the status (nicStatusView, nicAddressProblem) on the objects as read back.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { EventRecorder } from '../../pkg/events/recorder.js';
import { listEvents } from '../../pkg/events/read.js';
import { NodeStatusReporter, notReady } from '../../pkg/agent/context.js';
import { SettlingClock } from '../../pkg/agent/settling.js';
import { nicStatusView } from '../../pkg/agent/desired.js';
import { macvlanNetPool, nicAddressProblem } from '../../pkg/agent/nic-address.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import type { ContainerNic, MacvlanNet } from '../../pkg/api/index.js';
import { eventually, obj } from './controller-helpers.js';

let etcd: TestEtcd;
let store: EtcdStore;
beforeAll(async () => { etcd = await startEtcd(); store = createEtcdStore(etcd.client(), '/xnet'); });
afterAll(async () => { await etcd?.stop(); });

const lan = (ipRange: string) => obj('MacvlanNet', 'lan', { subnet: '198.19.10.0/24', ipRange, parent: 'eth0' });

/** What the agent's reconcile finds wrong with the NIC's allocation, on the objects as etcd holds them now. */
async function judged(name: string) {
  const nic = (await store.get('ContainerNic', name)) as ContainerNic;
  const st = nicStatusView(nic);
  if (st.problem) return { nic, problem: st.problem };
  return { nic, problem: nicAddressProblem(name, { ...st, ip: st.ip! }, macvlanNetPool((await store.get('MacvlanNet', 'lan')) as MacvlanNet)) };
}

describe('a NIC whose address its MacvlanNet\'s edited ipRange no longer holds', () => {
  it('waits for the controller (Normal StaleAllocation), not a Warning InvalidStatus', async () => {
    const rec = new EventRecorder({ client: etcd.client(), prefix: '/xnet', source: { component: 'agent', node: 'host-1' } });
    onTestFinished(() => rec.close());
    const status = new NodeStatusReporter(store, 'host-1', rec);
    await store.applyAll([lan('198.19.10.64/27'),
      obj('ContainerNic', 'web-eth1', { node: 'host-1', container: 'web', ifName: 'eth1', network: { macvlanNet: 'lan' } })]);
    await store.writeStatus('ContainerNic', 'web-eth1', { controller: true }, { ip: '198.19.10.94', prefixLength: 24 });
    const before = await judged('web-eth1');
    expect(before.problem).toBeUndefined();
    await status.write('ContainerNic', before.nic, { observedIp: '198.19.10.94' }, { status: 'True', reason: 'Converged', message: 'eth1 is in container web with 198.19.10.94/24' });

    await store.applyAll([lan('198.19.10.64/28')]);
    const after = await judged('web-eth1');
    expect(after.problem?.reason).toBe('StaleAllocation');
    expect(after.problem?.message).toContain('status.ip 198.19.10.94 is not an address MacvlanNet lan (198.19.10.64/28) hands out: waiting for the controller');
    await status.write('ContainerNic', after.nic, {}, notReady(after.problem!.reason, after.problem!.message));
    const events = await eventually(async () => {
      const l = (await listEvents(etcd.client(), '/xnet', { kind: 'ContainerNic', name: 'web-eth1' })).items;
      return l.some((e) => e.reason === 'StaleAllocation') ? l : undefined;
    }, 'the NIC\'s not-Ready event');
    expect(events.filter((e) => e.type === 'Warning').map((e) => e.reason)).toEqual([]);
    expect(events.find((e) => e.reason === 'StaleAllocation')?.type).toBe('Normal');
  });

  it('turns one Warning when it persists past the grace (the controller does not move it: a status written around it)', async () => {
    const rec = new EventRecorder({ client: etcd.client(), prefix: '/xnet', source: { component: 'agent', node: 'host-1' } });
    onTestFinished(() => rec.close());
    const status = new NodeStatusReporter(store, 'host-1', rec, undefined, new SettlingClock(1000));
    await store.applyAll([lan('198.19.10.64/28'),
      obj('ContainerNic', 'stuck-eth1', { node: 'host-1', container: 'web', ifName: 'eth1', network: { macvlanNet: 'lan' } })]);
    await store.writeStatus('ContainerNic', 'stuck-eth1', { controller: true }, { ip: '198.19.10.93', prefixLength: 24 });
    const j = await judged('stuck-eth1');
    expect(j.problem?.reason).toBe('StaleAllocation');
    await status.write('ContainerNic', j.nic, {}, notReady(j.problem!.reason, j.problem!.message));
    const types = async () => (await listEvents(etcd.client(), '/xnet', { kind: 'ContainerNic', name: 'stuck-eth1' })).items.filter((e) => e.reason === 'StaleAllocation').map((e) => e.type).sort();
    await eventually(async () => (await types()).length, 'the Normal event');
    expect(await types()).toEqual(['Normal']);
    expect(await eventually(async () => { const t = await types(); return t.length === 2 ? t : undefined; }, 'the Warning once it persists', 10_000)).toEqual(['Normal', 'Warning']);
  });

  it('a status.ip that does not decode is still InvalidStatus', async () => {
    await store.applyAll([obj('ContainerNic', 'bad-eth1', { node: 'host-1', container: 'web', ifName: 'eth1', network: { macvlanNet: 'lan' } })]);
    await store.writeStatus('ContainerNic', 'bad-eth1', { controller: true }, { ip: '198.19.10.70\nroute del default', prefixLength: 24 });
    expect((await judged('bad-eth1')).problem?.reason).toBe('InvalidStatus');
  });
});
