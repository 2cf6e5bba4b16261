// The controller against a three-member etcd: losing one member (even etcd's own leader)
// does not stop allocation, and nothing is allocated twice across the switch.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import type { Controller } from '../../pkg/controller/controller.js';
import type { AnyObject } from '../../pkg/api/index.js';
import { obj, startController, eventually, storeFor, uniquePrefix } from './controller-helpers.js';



let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd({ members: 3 }); });
afterAll(async () => { await etcd?.stop(); });

const ipOf = (o: AnyObject | undefined) => (o?.status as { ip?: string } | undefined)?.ip;

describe('controller on a three-member etcd', () => {
  it('keeps allocating after a member is stopped', async () => {
    const prefix = uniquePrefix();
    const store = storeFor(etcd.client(), prefix);
    const c: Controller = await startController(etcd.client(), prefix, { leaseTtlSeconds: 3 });
    try {
      await store.applyAll([
        obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24 }),
        obj('Node', 'n1', {}),
        ...Array.from({ length: 50 }, (_, i) => obj('ContainerNic', `before-${i}`, { node: 'n1', container: `b${i}`, ifName: 'eth1', network: { clusterNetwork: 'default' } })),
      ]);
      await eventually(async () => (await store.list('ContainerNic')).items.every((o) => ipOf(o)) || undefined, 'first 50 NICs allocated');
      // Stop the etcd leader itself: the cluster elects another and the client moves on.
      const status = await Promise.all(etcd.members.map(async (m) => {
        const r = await fetch(`${m.endpoints[0]}/v3/maintenance/status`, { method: 'POST', body: '{}' }).then((x) => x.json() as Promise<{ header: { member_id: string }; leader: string }>);
        return { m, isLeader: r.header.member_id === r.leader };
      }));
      const victim = (status.find((s) => s.isLeader) ?? status[0]).m;
      await victim.stop();
      const store2 = storeFor(etcd.client(), prefix);
      await eventually(async () => {
        await store2.applyAll(Array.from({ length: 50 }, (_, i) => obj('ContainerNic', `after-${i}`, { node: 'n1', container: `a${i}`, ifName: 'eth1', network: { clusterNetwork: 'default' } })));
        return true;
      }, 'apply through the surviving members', 60_000);
      const items = await eventually(async () => {
        const l = (await store2.list('ContainerNic')).items;
        return l.length === 100 && l.every((o) => ipOf(o)) ? l : undefined;
      }, 'all 100 NICs allocated', 60_000);
      expect(new Set(items.map(ipOf)).size).toBe(100);
      const report = await ipamCheck(etcd.client(), prefix);
      expect(report.problems, report.text).toBe(0);
    } finally {
      await c.stop();
    }
  }, 120_000);
});
