// References a first apply may pass through unresolved (late-warnings.ts). A ContainerNic whose
// spec.node names no Node (host1 for host-1) gets a Warning NodeNotFound once the controller has
// seen the Node missing for its grace, naming the closest Node: what `xctl get events` shows, as
// kubectl shows a pod's FailedScheduling; one whose Node comes within the grace gets none. A NIC
// refused because its network is not there yet is told with a Normal InvalidSpec, a Warning only
// once that persists. Real etcd, a real controller with a 1.5 s grace (15 s by default); what
// comes within the grace is tried on a second controller (its own prefix) whose grace is 20 s,
// so that a slow machine cannot make it late.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../../pkg/events/read.js';
import type { XnetEvent } from '../../pkg/events/types.js';
import type { Controller } from '../../pkg/controller/controller.js';
import type { EtcdStore } from '../../pkg/store/etcd-store.js';
import { eventually, obj, startController, startControllerFixture, statusOf, storeFor, type ControllerFixture } from './controller-helpers.js';

const PREFIX = '/nnf';
const GRACE_MS = 1500;
const PATIENT = '/nnf-patient';
let fx: ControllerFixture;
let patient: { c: Controller; store: EtcdStore };

beforeAll(async () => {
  fx = await startControllerFixture(PREFIX, { settleGraceMs: GRACE_MS });
  await eventually(async () => fx.c.isLeader, 'leads');
  await fx.store.applyAll([
    obj('ClusterNetwork', 'cn', { cidr: '10.78.0.0/16', hostPrefix: 24, dockerNetwork: 'nnf' }),
    obj('Node', 'host-1', {}),
  ]);
  patient = { c: await startController(fx.etcd.client(), PATIENT, { settleGraceMs: 20_000 }), store: storeFor(fx.etcd.client(), PATIENT) };
  await patient.store.applyAll([obj('ClusterNetwork', 'cn', { cidr: '10.78.0.0/16', hostPrefix: 24, dockerNetwork: 'nnf' }), obj('Node', 'host-1', {})]);
});
afterAll(async () => { await patient?.c.stop(); await fx?.c.stop(); await fx?.etcd.stop(); });

const nic = (name: string, node: string, network = 'cn') => obj('ContainerNic', name, { node, container: name, ifName: 'eth1', network: { clusterNetwork: network } });
const eventsOf = async (name: string, reason: string, prefix = PREFIX, kind: 'ContainerNic' | 'HostSubnet' = 'ContainerNic'): Promise<XnetEvent[]> =>
  (await listEvents(fx.etcd.client(), prefix, { kind, name })).items.filter((e) => e.reason === reason);
const nodeNotFound = (name: string, prefix = PREFIX) => eventsOf(name, 'NodeNotFound', prefix);
const invalidSpec = async (name: string, prefix = PREFIX) => (await eventsOf(name, 'InvalidSpec', prefix)).map((e) => e.type).sort();

describe('a NIC on a node no Node has', () => {
  it('gets one Warning NodeNotFound after the grace, naming the closest Node', async () => {
    const t0 = Date.now();
    await fx.store.applyAll([nic('typo', 'host1')]);
    // the precondition: the controller saw it and waits (its status says so) before the event
    await eventually(async () => statusOf(await fx.store.get('ContainerNic', 'typo')).conditions?.find((c) => c.type === 'Allocated' && c.status === 'False'), 'typo waits');
    const [ev] = await eventually(async () => { const e = await nodeNotFound('typo'); return e.length ? e : undefined; }, 'NodeNotFound recorded', 10_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(GRACE_MS);
    expect(ev).toMatchObject({ type: 'Warning', reason: 'NodeNotFound', count: 1 });
    expect(ev.message).toContain('no Node "host1" exists (did you mean "host-1"?): check spec.node');
    // told once, not on each retry
    await new Promise((r) => setTimeout(r, 2 * GRACE_MS));
    expect((await nodeNotFound('typo')).map((e) => e.count)).toEqual([1]);
  });

  it('gets none when its Node comes within the grace (a NIC applied before its agent joins)', async () => {
    const { store } = patient;
    await store.applyAll([nic('early', 'host-2')]);
    await eventually(async () => statusOf(await store.get('ContainerNic', 'early')).conditions?.find((c) => c.type === 'Allocated' && c.status === 'False'), 'early waits for its Node');
    await store.applyAll([obj('Node', 'host-2', {})]);
    await eventually(async () => (statusOf(await store.get('ContainerNic', 'early')) as { ip?: string }).ip, 'early gets an address once host-2 is there', 10_000);
    await new Promise((r) => setTimeout(r, GRACE_MS));
    expect(await nodeNotFound('early', PATIENT)).toEqual([]);
  });
});

describe('a NIC whose network is not there yet', () => {
  it('is told with a Normal InvalidSpec while young, and a Warning once that persists', async () => {
    await fx.store.applyAll([nic('later', 'host-1', 'cn-later')]);
    await eventually(async () => (await invalidSpec('later')).length, 'the refusal is told');
    expect(await invalidSpec('later')).toEqual(['Normal']);
    const both = await eventually(async () => { const t = await invalidSpec('later'); return t.length === 2 ? t : undefined; }, 'the Warning once it persists', 10_000);
    expect(both).toEqual(['Normal', 'Warning']);
    const [w] = (await eventsOf('later', 'InvalidSpec')).filter((e) => e.type === 'Warning');
    expect(w.message).toContain('cn-later');
    // the look at the grace's end tells the Warning only, not the young Normal once more
    expect((await eventsOf('later', 'InvalidSpec')).find((e) => e.type === 'Normal')?.count).toBe(1);
  });

  it('gets no Warning when its network comes within the grace', async () => {
    const { store } = patient;
    await store.applyAll([nic('soon', 'host-1', 'cn-soon')]);
    await eventually(async () => (await invalidSpec('soon', PATIENT)).length, 'the refusal is told');
    await store.applyAll([obj('ClusterNetwork', 'cn-soon', { cidr: '10.79.0.0/16', hostPrefix: 24, dockerNetwork: 'nnf-soon' })]);
    await eventually(async () => (statusOf(await store.get('ContainerNic', 'soon')) as { ip?: string }).ip, 'soon gets an address', 10_000);
    await new Promise((r) => setTimeout(r, GRACE_MS));
    expect(await invalidSpec('soon', PATIENT)).toEqual(['Normal']);
  });
});

describe('a HostSubnet whose ClusterNetwork is not there yet', () => {
  const types = async (name: string) => (await eventsOf(name, 'InvalidSpec', PREFIX, 'HostSubnet')).map((e) => e.type).sort();

  it('is told with a Normal InvalidSpec while young, and a Warning once that persists, as a NIC is', async () => {
    await fx.store.applyAll([obj('HostSubnet', 'hs-later', { node: 'host-1', clusterNetwork: 'cn-hs-later' })]);
    await eventually(async () => (await types('hs-later')).length, 'the refusal is told');
    expect(await types('hs-later')).toEqual(['Normal']);
    const both = await eventually(async () => { const t = await types('hs-later'); return t.length === 2 ? t : undefined; }, 'the Warning once it persists', 10_000);
    expect(both).toEqual(['Normal', 'Warning']);
    const [w] = (await eventsOf('hs-later', 'InvalidSpec', PREFIX, 'HostSubnet')).filter((e) => e.type === 'Warning');
    expect(w.message).toContain('ClusterNetwork "cn-hs-later" does not exist');
  });
});

describe('a NIC waiting only for released addresses to cool down', () => {
  it('gets no PoolExhausted Warning: the pool is not full, its free addresses come back in seconds', async () => {
    await fx.store.applyAll([
      obj('ClusterNetwork', 'tiny', { cidr: '10.98.0.0/28', hostPrefix: 28, dockerNetwork: 'nnf-tiny', nodeSelector: { matchLabels: { pool: 'tiny' } } }),
      obj('Node', 'host-t', {}, { pool: 'tiny' }),
    ]);
    // /28: Docker the upper 8, network and gateway: 6 for ContainerNics
    const tiny = (n: string) => obj('ContainerNic', n, { node: 'host-t', container: n, ifName: 'eth1', network: { clusterNetwork: 'tiny' } });
    await fx.store.applyAll(Array.from({ length: 6 }, (_, i) => tiny(`t${i}`)));
    for (let i = 0; i < 6; i++) await eventually(async () => (statusOf(await fx.store.get('ContainerNic', `t${i}`)) as { ip?: string }).ip, `t${i} has an address`, 10_000);
    await fx.store.delete('ContainerNic', 't0');
    await eventually(async () => !(await fx.store.get('ContainerNic', 't0')), 't0 is gone, its address released');
    await fx.store.applyAll([tiny('t6')]);
    const cooling = await eventually(async () => statusOf(await fx.store.get('ContainerNic', 't6')).conditions?.find((c) => c.type === 'Allocated' && c.reason === 'PoolExhausted'), 't6 waits', 10_000);
    expect(cooling.message).toContain('released less than 30 s ago');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await eventsOf('t6', 'PoolExhausted')).toEqual([]);
  });
});
