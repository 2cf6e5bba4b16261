// A ContainerNic's controller status lives in the index of the node it is bound to, and nowhere
// else (keys.controllerStatus): what the controller writes there is what xctl get, xctl's
// watches, `ipam check` and the node's agent read. It moves with the NIC, comes back when
// someone deletes it, and a status an older xnet left under status/controller/ is swept. The
// NIC's own copy there (what the agent reads the NIC from) is put back too when someone deletes
// or overwrites it: until then the agent takes the NIC out of its container.
import { describe, it, expect } from 'vitest';
import type { AnyObject } from '../../pkg/api/index.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import type { WatchEvent } from '../../pkg/store/types.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const prefix = uniquePrefix();
// a short GC period: the sweep of statuses left by an older layout is part of gc/all
const fx = useControllerFixture(prefix, { addressCooldownMs: 0, gcIntervalMs: 300 });

const nicOn = (node: string) => obj('ContainerNic', 'a-eth1', { node, container: 'a', ifName: 'eth1', network: { clusterNetwork: 'default' } });
const raw = async (key: string) => (await fx.etcd.client().get(key).string()) ?? undefined;

describe('a NIC\'s status in its node\'s index', () => {
  it('is written there only, and read from there by get, watch, the agent\'s view and ipam check', async () => {
    const { store } = fx;
    await store.applyAll([
      obj('ClusterNetwork', 'default', { cidr: '10.77.0.0/16', hostPrefix: 24 }),
      obj('Node', 'host-1', { address: '198.18.0.11' }), obj('Node', 'host-2', { address: '198.18.0.12' }),
    ]);
    const events: WatchEvent[] = [];
    const w = await store.watch('ContainerNic', await store.revision(), { onEvent: (e) => events.push(e) });
    try {
      await store.applyAll([nicOn('host-1')]);
      const nic = await eventually(async () => { const o = await store.get('ContainerNic', 'a-eth1'); return statusOf(o).ip ? o : undefined; }, 'an address');
      const ip = statusOf(nic).ip as string;
      const kept = await raw(store.keys.controllerStatus('ContainerNic', 'a-eth1', 'host-1')!);
      expect(JSON.parse(kept!).ip).toBe(ip);
      expect(await raw(store.keys.status('ContainerNic', 'a-eth1', { controller: true }))).toBeUndefined();
      expect((await store.list('ContainerNic')).items.map((o) => statusOf(o).ip)).toEqual([ip]);
      await eventually(async () => events.some((e) => statusOf(e.object).ip === ip), 'a watch event with the address');
    } finally {
      await w.close();
    }
    const view = store.nodeView('host-1');
    await view.start();
    try {
      expect((await view.list('ContainerNic')).items.map((o: AnyObject) => statusOf(o).ip)).toEqual([statusOf(await store.get('ContainerNic', 'a-eth1')).ip]);
    } finally {
      await view.close();
    }
    const report = await ipamCheck(fx.etcd.client(), prefix);
    expect(report.problems, report.text).toBe(0);
  });

  it('moves with the NIC to another node', async () => {
    const { store } = fx;
    await store.applyAll([nicOn('host-2')]);
    const moved = await eventually(async () => {
      const o = await store.get('ContainerNic', 'a-eth1');
      const hs = await store.get('HostSubnet', 'default-host-2');
      const subnet = statusOf(hs).subnet as string | undefined;
      return subnet && String(statusOf(o).ip ?? '').startsWith(subnet.split('.').slice(0, 3).join('.')) ? o : undefined;
    }, 'an address in host-2\'s subnet');
    expect(JSON.parse((await raw(store.keys.controllerStatus('ContainerNic', 'a-eth1', 'host-2')!))!).ip).toBe(statusOf(moved).ip);
    expect(await raw(store.keys.controllerStatus('ContainerNic', 'a-eth1', 'host-1')!)).toBeUndefined();
    const report = await ipamCheck(fx.etcd.client(), prefix);
    expect(report.problems, report.text).toBe(0);
  });

  it('is written again when someone deletes it', async () => {
    const key = fx.store.keys.controllerStatus('ContainerNic', 'a-eth1', 'host-2')!;
    const before = JSON.parse((await raw(key))!).ip;
    const del = await fx.etcd.client().delete().key(key).exec();
    // the controller may write it back before a read could see it gone: the delete's answer says it went
    expect(Number(del.deleted)).toBe(1);
    const again = await eventually(async () => raw(key), 'the status written again');
    expect(JSON.parse(again).ip).toBe(before);
  });

  it('sweeps a status an older xnet left under status/controller/', async () => {
    const old = fx.store.keys.status('ContainerNic', 'a-eth1', { controller: true });
    const put = await fx.etcd.client().put(old).value(JSON.stringify({ ip: '10.77.9.9', prefixLength: 24 })).exec();
    // the GC may sweep it before a read could see it: read it at the put's own revision
    expect(await fx.etcd.client().get(old).revision(put.header.revision).string()).not.toBeNull();
    await eventually(async () => (await raw(old)) === undefined, 'the old status deleted');
    // the NIC's own status is untouched, and xctl shows it
    expect(statusOf(await fx.store.get('ContainerNic', 'a-eth1')).ip).not.toBe('10.77.9.9');
  });

  it('puts the NIC\'s copy back when someone deletes it', async () => {
    const objKey = fx.store.keys.object('ContainerNic', 'a-eth1');
    const copy = fx.store.keys.indexed('host-2', objKey);
    const want = await raw(objKey);
    expect(await raw(copy)).toBe(want);
    const del = await fx.etcd.client().delete().key(copy).exec();
    expect(Number(del.deleted)).toBe(1);
    expect(await eventually(async () => raw(copy), 'the copy written again')).toBe(want);
    expect(await raw(objKey)).toBe(want);
  });

  it('puts the NIC\'s copy back when someone overwrites it', async () => {
    const objKey = fx.store.keys.object('ContainerNic', 'a-eth1');
    const copy = fx.store.keys.indexed('host-2', objKey);
    const want = await raw(objKey);
    const forged = JSON.stringify({ ...JSON.parse(want!), spec: { ...JSON.parse(want!).spec, container: 'someone-else' } });
    const put = await fx.etcd.client().put(copy).value(forged).exec();
    expect(await fx.etcd.client().get(copy).revision(put.header.revision).string()).toBe(forged);
    expect(await eventually(async () => { const v = await raw(copy); return v === want ? v : undefined; }, 'the copy written again')).toBe(want);
  });
});
