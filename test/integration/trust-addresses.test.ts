// Address lifecycle against a real etcd and controller: the controller names the HostSubnet a
// NIC uses (the agent does not choose again), free addresses are handed out next-fit rather
// than lowest-first, and a released address is not reused before its cooldown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestEtcd } from '../harness/etcd.js';
import type { Controller } from '../../pkg/controller/controller.js';
import type { EtcdStore } from '../../pkg/store/index.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { obj, startController, startControllerFixture, eventually, uniquePrefix, statusOf, type Status } from './controller-helpers.js';

const COOLDOWN_MS = 3000;

let etcd: TestEtcd;
let c: Controller;
let store: EtcdStore;
const prefix = uniquePrefix();
beforeAll(async () => { ({ etcd, store, c } = await startControllerFixture(prefix, { addressCooldownMs: COOLDOWN_MS })); });
let standby: Controller | undefined;
// each is stopped also when stopping the one before it throws
afterAll(async () => {
  try {
    await standby?.stop();
  } finally {
    try { await c?.stop(); } finally { await etcd?.stop(); }
  }
});

const waitFor = (kind: string, name: string, pred: (s: Status) => boolean, what: string, ms?: number) =>
  eventually(async () => { const o = await store.get(kind as never, name); return o && pred(statusOf(o)) ? o : undefined; }, what, ms);
const ipOf = async (name: string) => statusOf(await waitFor('ContainerNic', name, (s) => typeof s.ip === 'string', `${name} allocated`)).ip as string;
const cnNic = (name: string) => obj('ContainerNic', name, { node: 'host-1', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'default' } });
const mvNic = (name: string) => obj('ContainerNic', name, { node: 'host-1', container: 'c', ifName: 'eth2', network: { macvlanNet: 'tiny' } });

describe('NIC addresses', () => {
  it('names the HostSubnet the NIC is on, and hands out next-fit: a released address is not the next one', async () => {
    await store.applyAll([obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24 }), obj('Node', 'host-1', { address: '198.18.0.11' })]);
    await store.applyAll([cnNic('a'), cnNic('b'), cnNic('c')]);
    const ips = [await ipOf('a'), await ipOf('b'), await ipOf('c')];
    expect(new Set(ips).size).toBe(3);
    const hs = statusOf(await store.get('HostSubnet', 'default-host-1'));
    expect(statusOf(await store.get('ContainerNic', 'a'))).toMatchObject({ hostSubnet: 'default-host-1', prefixLength: 24, gateway: hs.gateway });
    const freed = await ipOf('b');
    await store.delete('ContainerNic', 'b');
    await store.applyAll([cnNic('d')]);
    const d = await ipOf('d');
    expect(d).not.toBe(freed);
    expect(ips).not.toContain(d);
  });

  it('keeps a released address out of use for the cooldown, then hands it out', async () => {
    // Four addresses, all taken: the only one that comes free is cooling down.
    await store.applyAll([obj('MacvlanNet', 'tiny', { subnet: '192.168.50.0/24', ipRange: '192.168.50.8/30', blockPrefix: 30, nodeSelector: { matchLabels: { none: 'x' } } })]);
    await store.applyAll(['m1', 'm2', 'm3', 'm4'].map(mvNic));
    const taken = await Promise.all(['m1', 'm2', 'm3', 'm4'].map(ipOf));
    expect(taken.sort()).toEqual(['192.168.50.10', '192.168.50.11', '192.168.50.8', '192.168.50.9']);
    const freed = await ipOf('m2');
    await store.delete('ContainerNic', 'm2');
    const releasedAt = Date.now();
    await store.applyAll([mvNic('m5')]);
    const waiting = await waitFor('ContainerNic', 'm5', (s) => s.conditions?.some((x) => x.type === 'Allocated' && x.status === 'False') ?? false, 'm5 waits');
    expect(statusOf(waiting).conditions?.find((x) => x.type === 'Allocated')?.message).toMatch(/released less than 3 s ago/);
    expect(await ipOf('m5')).toBe(freed);
    expect(Date.now() - releasedAt).toBeGreaterThanOrEqual(COOLDOWN_MS - 500);
    const report = await ipamCheck(etcd.client(), prefix);
    expect(report.problems, report.text).toBe(0);
  });

  it('the cooldown survives a change of leader: the standby saw the release too', async () => {
    standby = await startController(etcd.client(), prefix, { addressCooldownMs: COOLDOWN_MS, id: 'standby' });
    const freed = await ipOf('m3');
    await store.delete('ContainerNic', 'm3');
    await eventually(async () => (await store.get('ContainerNic', 'm3')) === undefined, 'm3 gone');
    const releasedAt = Date.now();
    await c.stop();
    await eventually(async () => standby!.isLeader || undefined, 'standby leads');
    await store.applyAll([mvNic('m6')]);
    expect(await ipOf('m6')).toBe(freed);
    expect(Date.now() - releasedAt).toBeGreaterThanOrEqual(COOLDOWN_MS - 500);
  });
});
