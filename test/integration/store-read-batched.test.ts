// `xctl get macvlannet NAME` over many nodes: the MacvlanNet's node parts (one key in each
// node's index, store/macvlan-parts.ts) and the nodes' reports are exact keys, read in
// transactions of at most --max-txn-ops reads, side by side (store/read-objects.ts readKeys).
// A read per key was one request per node, all at once: 1,000 nodes, 1,000 requests for one
// `get`. Real etcd at its default limits; no controller (the test writes what it would).
// And several NAMEs' objects (readKeysAtOneRevision) stay at one revision when a transaction is split.
import { describe, expect, it } from 'vitest';
import type { MacvlanNodeStatus } from '../../pkg/api/index.js';
import { obj, statusOf, useKeysFixture } from './controller-helpers.js';
import { Etcd3 } from 'etcd3';
import { callDeadlines, etcdFaultHandling } from '../../pkg/etcd/client.js';
import { readKeysAtOneRevision } from '../../pkg/store/read-objects.js';

const MVN = 'wide';
const NODES = 300;
const fx = useKeysFixture();

/** The KV requests (Range, Txn, ...) etcd has answered so far, by its own /metrics. */
async function kvRequests(): Promise<number> {
  const text = await (await fetch(`${fx.etcd.endpoints[0]}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return text.split('\n').filter((l) => l.startsWith('grpc_server_handled_total{') && l.includes('grpc_service="etcdserverpb.KV"'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe(`a MacvlanNet over ${NODES} nodes read as xctl get reads it`, () => {
  it('has every node part joined, read in a handful of requests, not one per node', async () => {
    await fx.store.applyAll([obj('MacvlanNet', MVN, { subnet: '10.86.0.0/16', gateway: '10.86.0.1', dockerIPAM: 'xnet' })]);
    const keys = fx.store.keys;
    const nodes = Array.from({ length: NODES }, (_, i) => `wn-${i}`);
    await fx.put(keys.status('MacvlanNet', MVN, { controller: true }), { observedGeneration: 1, nodes: nodes.map((name) => ({ name })) });
    for (let i = 0; i < NODES; i += 50) {
      await Promise.all(nodes.slice(i, i + 50).map((n, j) =>
        fx.put(keys.macvlanPart(n, MVN), { name: n, addresses: [`10.86.${((i + j) >> 8) + 1}.${((i + j) & 255)}`], ready: true })));
    }
    const before = await kvRequests();
    const r = await fx.store.read('MacvlanNet', MVN);
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

describe('objects read at one revision when one transaction\'s response is larger than the client takes', () => {
  it('reads the second half at the first half\'s revision: a write between the halves is not seen', async () => {
    // 12 values of 400 KB, 4.8 MB in one transaction; this client takes 4 MiB (xnet's takes 64:
    // 128 objects of 1.5 MiB each are over it), so the transaction is asked for again as halves
    const big = 'z'.repeat(400 * 1024);
    const keys = Array.from({ length: 12 }, (_, i) => `/one-rev/k${String(i).padStart(2, '0')}`);
    for (const k of keys) await fx.etcd.client().put(k).value(big);
    const small = new Etcd3({
      hosts: fx.etcd.endpoints, defaultCallOptions: callDeadlines(), faultHandling: etcdFaultHandling(fx.etcd.endpoints.length),
      grpcOptions: { 'grpc.max_receive_message_length': 4 * 1024 * 1024 },
    });
    // the last key changes as soon as the first transaction etcd answered is back: the second half then reads after it
    const txn = small.kv.txn.bind(small.kv);
    let answered = 0;
    small.kv.txn = async (req, opts) => {
      const res = await txn(req, opts);
      if (answered++ === 0) await fx.etcd.client().put(keys[11]).value('changed between the halves');
      return res;
    };
    try {
      const r = await readKeysAtOneRevision(small, keys, 128);
      expect(answered, 'the transaction was split').toBeGreaterThan(1);
      expect(r.kvs.map((kv) => kv?.value.length)).toEqual(keys.map(() => big.length));
      expect(r.kvs.every((kv) => Number(kv?.mod_revision) <= r.revision)).toBe(true);
    } finally {
      small.close();
    }
  });
});
