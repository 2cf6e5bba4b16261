// Issue 10 part 4: a MacvlanNet applied before any node registered. Each node that joins later
// must get its own Docker block and shim address within seconds, not a transaction that keeps
// conflicting because the planner picked a block another node of the same MacvlanNet holds.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import type { Controller } from '../../pkg/controller/controller.js';
import type { NodeLease } from '../../pkg/store/types.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { obj, startController, eventually, storeFor, uniquePrefix } from './controller-helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });

type NodePart = { name: string; dockerRange?: string; shimAddress?: string; addresses?: string[] };

describe('a MacvlanNet applied before its nodes register', () => {
  let c: Controller;
  const prefix = uniquePrefix();
  const leases: NodeLease[] = [];
  afterAll(async () => { for (const l of leases) await l.revoke().catch(() => undefined); await c?.stop(); });

  it('gives each late node its own block and shim address, one node at a time', async () => {
    const store = storeFor(etcd.client(), prefix);
    c = await startController(etcd.client(), prefix);
    await store.applyAll([
      obj('MacvlanNet', 'mv', { subnet: '198.19.0.0/24', gateway: '198.19.0.1', ipRange: '198.19.0.128/25', blockPrefix: 28, hostShim: true, dockerIPAM: 'blocks' }),
      // dockerIPAM xnet (the default): each node gets a set of pre-claimed addresses instead of a block
      obj('MacvlanNet', 'mvx', { subnet: '198.19.1.0/24', gateway: '198.19.1.1', ipRange: '198.19.1.128/25', hostShim: true }),
    ]);
    const partsOf = async (m = 'mv') => ((await store.get('MacvlanNet', m))?.status as { nodes?: NodePart[] } | undefined)?.nodes ?? [];
    await eventually(async () => ((await store.get('MacvlanNet', 'mv'))?.status as { conditions?: Array<{ reason: string }> } | undefined)?.conditions?.some((x) => x.reason === 'NoNodes'), 'NoNodes before any node');
    // Nodes join one after the other the way agents do (a lease-bound report of their own; the
    // controller makes the Node): the second plans against the first's claims.
    for (const [i, n] of ['h1', 'h2', 'h3'].entries()) {
      const lease = store.nodeLease(n, { ttlSeconds: 30 });
      leases.push(lease);
      await store.reportNode(n, { address: `198.18.0.${21 + i}`, interface: 'eth0' }, lease);
      await eventually(async () => {
        const parts = await partsOf();
        const xparts = await partsOf('mvx');
        return parts.length === i + 1 && parts.every((p) => p.dockerRange && p.shimAddress)
          && xparts.length === i + 1 && xparts.every((p) => p.shimAddress && (p.addresses?.length ?? 0) >= 4);
      }, `${n} gets a block, pre-claimed addresses and shim addresses`, 10_000);
    }
    const xparts = await partsOf('mvx');
    const all = xparts.flatMap((p) => [...p.addresses!, p.shimAddress!]);
    expect(new Set(all).size).toBe(all.length);
    const parts = await partsOf();
    expect(new Set(parts.map((p) => p.dockerRange)).size).toBe(3);
    expect(new Set(parts.map((p) => p.shimAddress)).size).toBe(3);
    const report = await ipamCheck(etcd.client(), prefix);
    expect(report.problems, report.text).toBe(0);
  });
});
