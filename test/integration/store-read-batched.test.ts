// `xctl get macvlannet NAME` over many nodes: the MacvlanNet's node parts (one key in each
// node's index, store/macvlan-parts.ts) and the nodes' reports are exact keys, read in
// transactions of at most --max-txn-ops reads, side by side (store/read-objects.ts readKeys).
// A read per key was one request per node, all at once: 1,000 nodes, 1,000 requests for one
// `get`. Real etcd at its default limits; no controller (the test writes what it would).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import type { EtcdStore } from '../../pkg/store/index.js';
import type { MacvlanNodeStatus } from '../../pkg/api/index.js';
import { obj, statusOf, storeFor, uniquePrefix } from './controller-helpers.js';

const MVN = 'wide';
const NODES = 300;
const prefix = uniquePrefix();
let etcd: TestEtcd;
let store: EtcdStore;
beforeAll(async () => { etcd = await startEtcd(); store = storeFor(etcd.client(), prefix); });
afterAll(async () => { await etcd?.stop(); });

/** The KV requests (Range, Txn, ...) etcd has answered so far, by its own /metrics. */
async function kvRequests(): Promise<number> {
  const text = await (await fetch(`${etcd.endpoints[0]}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return text.split('\n').filter((l) => l.startsWith('grpc_server_handled_total{') && l.includes('grpc_service="etcdserverpb.KV"'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe(`a MacvlanNet over ${NODES} nodes read as xctl get reads it`, () => {
  it('has every node part joined, read in a handful of requests, not one per node', async () => {
    await store.applyAll([obj('MacvlanNet', MVN, { subnet: '10.86.0.0/16', gateway: '10.86.0.1', dockerIPAM: 'xnet' })]);
    const keys = store.keys;
    const nodes = Array.from({ length: NODES }, (_, i) => `wn-${i}`);
    const put = (key: string, v: unknown) => etcd.client().put(key).value(JSON.stringify(v));
    await put(keys.status('MacvlanNet', MVN, { controller: true }), { observedGeneration: 1, nodes: nodes.map((name) => ({ name })) });
    for (let i = 0; i < NODES; i += 50) {
      await Promise.all(nodes.slice(i, i + 50).map((n, j) =>
        put(keys.macvlanPart(n, MVN), { name: n, addresses: [`10.86.${((i + j) >> 8) + 1}.${((i + j) & 255)}`], ready: true })));
    }
    const before = await kvRequests();
    const r = await store.read('MacvlanNet', MVN);
    const requests = await kvRequests() - before;
    expect(r.skipped).toEqual([]);
    const entries = statusOf(r.object).nodes as MacvlanNodeStatus[];
    expect(entries).toHaveLength(NODES);
    expect(entries.every((e) => e.addresses?.length === 1), 'every node part joined').toBe(true);
    // the object, the reports' key listing, then the status key and the parts: 300 parts at
    // 128 reads a transaction are 3; a read per key was over 300
    expect(requests, `${requests} KV requests for one read`).toBeLessThanOrEqual(10);
  });
});
