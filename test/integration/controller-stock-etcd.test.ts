// The controller on a stock etcd (128 operations per transaction, 1.5 MiB per request): work
// that needs more than one transaction is split, never refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { startController, storeFor, uniquePrefix, obj, eventually } from './controller-helpers.js';

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
});
