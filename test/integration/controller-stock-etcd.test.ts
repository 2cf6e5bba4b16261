// The controller on a stock etcd (128 operations per transaction, 1.5 MiB per request): work
// that needs more than one transaction is split, never refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { beat, startController, storeFor, uniquePrefix, obj, eventually } from './controller-helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });

describe('controller on a stock etcd', () => {
  it('gives each of 150 nodes selected by one MacvlanNet its own Docker block and shim address', async () => {
    const prefix = uniquePrefix();
    const client = etcd.client();
    const store = storeFor(client, prefix);
    const c = await startController(client, prefix);
    try {
      const N = 150;
      // a first part of each node needs ~5 compares: 150 nodes cannot go in one transaction
      await store.applyAll([
        ...Array.from({ length: N }, (_, i) => obj('Node', `mv-${i}`, { address: `198.18.1.${i + 1}` }, { mv: 'yes' })),
        obj('MacvlanNet', 'wide', { subnet: '10.200.0.0/16', gateway: '10.200.0.1', blockPrefix: 28, dockerIPAM: 'blocks', hostShim: true, nodeSelector: { matchLabels: { mv: 'yes' } } }),
      ]);
      type NodePart = { name: string; dockerRange?: string; shimAddress?: string };
      const nodes = await eventually(async () => {
        const parts = ((await store.get('MacvlanNet', 'wide'))?.status as { nodes?: NodePart[] } | undefined)?.nodes;
        return parts?.length === N && parts.every((n) => n.dockerRange && n.shimAddress) ? parts : undefined;
      }, 'every node has a block and a shim address', 60_000);
      expect(new Set(nodes.map((n) => n.dockerRange)).size).toBe(N);
      expect(new Set(nodes.map((n) => n.shimAddress)).size).toBe(N);
      const report = await ipamCheck(client, prefix);
      expect(report.problems).toBe(0);
    } finally {
      await c.stop();
    }
  }, 90_000);

  it("gives each of 100 nodes its pre-claimed addresses (dockerIPAM xnet) in keys none of which holds the others' addresses", async () => {
    const prefix = uniquePrefix();
    const client = etcd.client();
    const store = storeFor(client, prefix);
    const c = await startController(client, prefix);
    try {
      const N = 100;
      const names = Array.from({ length: N }, (_, i) => `px-${i}`);
      await store.applyAll([
        ...names.map((n) => obj('Node', n, { interface: 'eth0' }, { px: 'yes' })),
        obj('MacvlanNet', 'prex', { subnet: '10.201.0.0/16', gateway: '10.201.0.1', dockerIPAM: 'xnet', hostShim: true, nodeSelector: { matchLabels: { px: 'yes' } } }),
      ]);
      // their agents start: a node whose agent never reported gets no pre-claims
      for (const n of names) await beat(store, n);
      type NodePart = { name: string; shimAddress?: string; addresses?: string[] };
      const nodes = await eventually(async () => {
        const parts = ((await store.get('MacvlanNet', 'prex'))?.status as { nodes?: NodePart[] } | undefined)?.nodes;
        return parts?.length === N && parts.every((n) => n.shimAddress && n.addresses?.length === 8) ? parts : undefined;
      }, 'every node has its shim and 8 addresses at hand', 60_000);
      expect(new Set(nodes.flatMap((n) => n.addresses)).size).toBe(N * 8);
      // as one key this status was over 250 bytes a node and grew with each node's addresses; the
      // key every agent watches holds ~40 a node now, each node's part its own addresses only
      const keys = store.keys;
      const size = async (key: string) => (await client.get(key).string())?.length ?? 0;
      const shared = await size(keys.status('MacvlanNet', 'prex', { controller: true }));
      expect(shared).toBeGreaterThan(0);
      expect(shared).toBeLessThan(N * 60 + 1024);
      const parts = await Promise.all(names.map((n) => size(keys.macvlanPart(n, 'prex'))));
      expect(Math.max(...parts)).toBeLessThan(8 * 16 + 200);
      expect(Math.min(...parts)).toBeGreaterThan(0);
      const report = await ipamCheck(client, prefix);
      expect(report.problems, report.text).toBe(0);
    } finally {
      await c.stop();
    }
  }, 90_000);
});
