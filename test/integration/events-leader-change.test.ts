// An event's history survives the recorder that wrote it: a new leader (or a restarted agent)
// that records an event already stored goes on with its count and firstTimestamp, as
// Kubernetes' recorder patches an existing event with count+1, instead of writing count 1 over
// the history `xctl describe` shows. What is stored is untrusted: a value that is not an event
// of that identity starts a new count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { EventRecorder } from '../../pkg/events/recorder.js';
import { listEvents } from '../../pkg/events/read.js';
import { runXctl } from '../../pkg/cli/program.js';
import { DEFAULT_PREFIX, Keys } from '../../pkg/store/keys.js';
import type { Controller } from '../../pkg/controller/controller.js';
import type { XnetEvent } from '../../pkg/events/types.js';
import { eventually, obj, startController, storeFor, uniquePrefix } from './controller-helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });

const NODE = { kind: 'Node', name: 'lost-1' };

async function nodeLost(prefix: string): Promise<XnetEvent[]> {
  return (await listEvents(etcd.client(), prefix, NODE)).items.filter((e) => e.reason === 'NodeLost');
}

/**
 * The agent of lost-1 heartbeats, then its lease-bound status goes: the leader records the
 * Warning NodeLost (controller.ts). Waits until the leader saw the status, and until the event
 * is written again (its lastTimestamp moved).
 */
async function loseNode(prefix: string, leader: Controller): Promise<XnetEvent> {
  const store = storeFor(etcd.client(), prefix);
  const before = (await nodeLost(prefix))[0]?.lastTimestamp;
  const statusKey = new Keys(prefix).status('Node', NODE.name, { node: NODE.name });
  await store.writeStatus('Node', NODE.name, { node: NODE.name }, { lastHeartbeatTime: new Date().toISOString() });
  await eventually(async () => leader.cache.get(statusKey), 'the leader saw the heartbeat');
  await new Promise((r) => setTimeout(r, 5)); // two occurrences never share a millisecond
  await store.deleteStatus('Node', NODE.name, { node: NODE.name });
  return eventually(async () => (await nodeLost(prefix)).find((e) => e.lastTimestamp !== before), 'NodeLost recorded again');
}

async function xctl(args: string[]) {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, {
    out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => '',
    env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') },
  });
  return r;
}

describe('an event repeated after a leader change', () => {
  it('goes on with the stored count and firstTimestamp, and so does the old leader when it leads again', async () => {
    const prefix = DEFAULT_PREFIX; // the one xctl reads
    const a = await startController(etcd.client(), prefix, { id: 'a' });
    await eventually(async () => a.isLeader, 'a leads');
    const b = await startController(etcd.client(), prefix, { id: 'b' });
    let bStopped = false;
    try {
      await storeFor(etcd.client(), prefix).create(obj('Node', NODE.name, {}));
      await eventually(async () => a.model.node(NODE.name), 'a has the Node');
      let ev: XnetEvent | undefined;
      for (let i = 0; i < 3; i++) ev = await loseNode(prefix, a);
      expect(ev!.count).toBe(3);
      const first = ev!.firstTimestamp;

      // a's term ends (its key deleted) while it keeps running: b takes over
      const election = new Keys(prefix).election();
      await eventually(async () => {
        if (!b.isLeader) await etcd.client().delete().key(election);
        await new Promise((r) => setTimeout(r, 300));
        return b.isLeader && !a.isLeader;
      }, 'b leads, a stands by');
      await eventually(async () => b.model.node(NODE.name), 'b has the Node');
      ev = await loseNode(prefix, b);
      expect({ rows: (await nodeLost(prefix)).length, count: ev.count, firstTimestamp: ev.firstTimestamp }).toEqual({ rows: 1, count: 4, firstTimestamp: first });

      // what a user reads: describe's COUNT
      const d = await xctl(['describe', 'node', NODE.name]);
      expect(d.code, d.err).toBe(0);
      expect(d.out).toMatch(/Warning\s+NodeLost\s+\S+\s+4\s+controller\s/);

      // a leads again: what it remembers from its first term (count 3) is old
      await b.stop();
      bStopped = true;
      await eventually(async () => a.isLeader, 'a leads again');
      ev = await loseNode(prefix, a);
      expect({ count: ev.count, firstTimestamp: ev.firstTimestamp }).toEqual({ count: 5, firstTimestamp: first });
    } finally {
      if (!bStopped) await b.stop();
      await a.stop();
    }
  }, 60_000);
});

describe('an agent restarted (a new recorder of the same source)', () => {
  const nic = { kind: 'ContainerNic', name: 'restart-eth1' };
  const record = (rec: EventRecorder) => rec.record(nic, 'Warning', 'ContainerNotFound', 'no container "x" on host-1');

  /** a client whose reads (etcd ranges) are counted */
  function countingClient() {
    const client = etcd.client();
    const range = client.kv.range.bind(client.kv);
    const reads = { n: 0 };
    client.kv.range = ((...args: Parameters<typeof range>) => { reads.n++; return range(...args); }) as typeof range;
    return { client, reads };
  }

  it('goes on with the stored count, reading it once: an event it remembers costs no read', async () => {
    const prefix = uniquePrefix();
    const source = { component: 'agent' as const, node: 'host-1' };
    const first = new EventRecorder({ client: etcd.client(), prefix, source });
    try {
      await record(first);
      await record(first);
    } finally {
      await first.close();
    }
    const before = (await listEvents(etcd.client(), prefix, nic)).items[0];
    const { client, reads } = countingClient();
    const second = new EventRecorder({ client, prefix, source });
    try {
      await record(second);
      expect(reads.n).toBe(1);
      await record(second);
      await record(second);
      expect(reads.n).toBe(1);
    } finally {
      await second.close();
    }
    const after = (await listEvents(etcd.client(), prefix, nic)).items;
    expect(after.map((e) => [e.count, e.firstTimestamp])).toEqual([[5, before.firstTimestamp]]);
  });

  it('writes a new count when etcd does not answer the read within its deadline', async () => {
    const prefix = uniquePrefix();
    const source = { component: 'agent' as const, node: 'host-1' };
    const first = new EventRecorder({ client: etcd.client(), prefix, source });
    try {
      await record(first);
    } finally {
      await first.close();
    }
    const client = etcd.client();
    let asked = 0;
    client.kv.range = (() => { asked++; return new Promise(() => undefined); }) as typeof client.kv.range;
    const second = new EventRecorder({ client, prefix, source });
    try {
      const t0 = Date.now();
      await record(second);
      expect({ asked, late: Date.now() - t0 >= 5000 }).toEqual({ asked: 1, late: false });
    } finally {
      await second.close();
    }
    expect((await listEvents(etcd.client(), prefix, nic)).items.map((e) => e.count)).toEqual([1]);
  });

  it('starts a new count over a stored value that is not an event of that identity, and never throws', async () => {
    const prefix = uniquePrefix();
    const source = { component: 'agent' as const, node: 'host-1' };
    const probe = new EventRecorder({ client: etcd.client(), prefix, source });
    try {
      await record(probe);
    } finally {
      await probe.close();
    }
    const key = (await etcd.client().getAll().prefix(new Keys(prefix).nodeEvents('host-1')).keys())[0];
    const now = new Date().toISOString();
    const stored = { involvedObject: nic, type: 'Warning', reason: 'ContainerNotFound', message: 'x', source, count: 7, firstTimestamp: now, lastTimestamp: now };
    for (const value of ['not json', JSON.stringify({ ...stored, count: -3 }), JSON.stringify({ ...stored, involvedObject: { kind: 'ContainerNic', name: 'other' } }), JSON.stringify({ ...stored, reason: 'Attached' })]) {
      await etcd.client().put(key).value(value);
      const rec = new EventRecorder({ client: etcd.client(), prefix, source });
      try {
        await expect(record(rec)).resolves.toBeUndefined();
      } finally {
        await rec.close();
      }
      const got = (await listEvents(etcd.client(), prefix, nic)).items;
      expect({ value, counts: got.map((e) => e.count) }).toEqual({ value, counts: [1] });
    }
  });
});
