// Every node writes events and its observed-state report, values up to etcd's 1.5 MiB each. xctl
// read each family in one response: past the client's receive limit (64 MiB, some 43 such keys
// of one node) `xctl get events`, every `describe` and `xctl verify` failed with
// RESOURCE_EXHAUSTED. They are read in pages now, as the controller's listings are
// (test/integration/range-pages.test.ts). A client with a 4 MiB limit shows it at a tenth of the size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { callDeadlines, etcdFaultHandling } from '../../pkg/etcd/client.js';
import { listEvents } from '../../pkg/events/read.js';
import { readObservedReports } from '../../pkg/verify/report.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { obj } from './helpers.js';

let etcd: TestEtcd;
let small: Etcd3;
beforeAll(async () => {
  etcd = await startEtcd();
  small = new Etcd3({
    hosts: etcd.endpoints, defaultCallOptions: callDeadlines(), faultHandling: etcdFaultHandling(etcd.endpoints.length),
    grpcOptions: { 'grpc.max_receive_message_length': 4 * 1024 * 1024 },
  });
});
afterAll(async () => { small?.close(); await etcd?.stop(); });

const pad = 'p'.repeat(400 * 1024);

describe('listings of keys nodes write, larger than one response', () => {
  it('lists events in pages: 12 events of 400 KB from one node (4.8 MB) are all read', async () => {
    const client = etcd.client();
    for (let i = 0; i < 12; i++) {
      const ev = {
        involvedObject: { kind: 'Node', name: 'host-1' }, type: 'Warning', reason: 'Big', message: `event ${i}`, pad,
        source: { component: 'agent', node: 'host-2' }, count: 1, firstTimestamp: '2026-01-01T00:00:00Z', lastTimestamp: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`,
      };
      await client.put(`/pg/events/nodes/host-2/nodes/host-1/big${i}`).value(JSON.stringify(ev));
    }
    const l = await listEvents(small, '/pg', { kind: 'Node', name: 'host-1' });
    expect(l.items.map((e) => e.message)).toEqual(Array.from({ length: 12 }, (_, i) => `event ${i}`));
    expect(l.skipped).toEqual([]);
    expect(l.revision).toBeGreaterThan(0);
  });

  it('reads observed-state reports in pages: 12 reports of 400 KB (4.8 MB) are all read', async () => {
    const client = etcd.client();
    for (let i = 0; i < 12; i++) {
      const node = `host-${i}`;
      await client.put(`/pg2/observed/nodes/${node}`).value(JSON.stringify({ node, since: '2026-01-01T00:00:00Z', differences: [], total: 0, pad }));
    }
    const r = await readObservedReports(small, '/pg2');
    expect(r.skipped.map((s) => s.error)).toEqual([]);
    expect([...r.reports.keys()].sort()).toHaveLength(12);
  });
});

describe('objects read by name, larger together than one response', () => {
  // xctl delete reads the objects it deletes (and its in-use check the Nodes, networks and
  // HostSubnets among them) in one transaction per 128: Nodes an admin or agent gave large
  // annotations went past the client's receive limit together, and the delete failed
  const names = Array.from({ length: 12 }, (_, i) => `big-${i}`);
  const refs = names.map((name) => ({ kind: 'Node' as const, name }));

  it('reads 12 Nodes of 400 KB (4.8 MB) by name, and deletes them', async () => {
    const writer = createEtcdStore(etcd.client(), '/pg3');
    await writer.applyAll(names.map((name) => ({ ...obj('Node', name, {}), metadata: { name, annotations: { pad } } })));
    const store = createEtcdStore(small, '/pg3');
    expect((await store.getMany(refs)).map((o) => o?.metadata.name)).toEqual(names);
    expect(await store.deleteAll(refs)).toEqual(names.map(() => 'deleted'));
    expect(await writer.getMany(refs)).toEqual(names.map(() => undefined));
  });
});
