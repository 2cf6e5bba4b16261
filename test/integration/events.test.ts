// Events against a real etcd: deduplicated (count + lastTimestamp), rate-limited, stored with a
// lease so they expire, outside registry/; `xctl get events [--for] [-w]` and describe's
// Events section read them; the controller records allocations, refusals and lost nodes.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { EventRecorder } from '../../pkg/events/recorder.js';
import { eventsDropped } from '../../pkg/metrics/metrics.js';
import { listEvents, watchEvents } from '../../pkg/events/read.js';
import { runXctl } from '../../pkg/cli/program.js';
import { Session } from '../../pkg/cli/connect.js';
import { eventsOnce } from '../../pkg/cli/commands/events.js';
import { parse as parseYaml } from 'yaml';
import { eventually, startController, storeFor, uniquePrefix } from './controller-helpers.js';
import { until } from './helpers.js';
import type { Controller } from '../../pkg/controller/controller.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });

async function xctl(args: string[], signal?: AbortSignal, onOut?: (all: string) => void) {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, {
    out: (t) => { r.out += t; onOut?.(r.out); }, err: (t) => { r.err += t; }, stdin: async () => '',
    env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') }, signal,
  });
  return r;
}

describe('EventRecorder', () => {
  it('stores one event per (object, type, reason, message) and counts repeats, under events/ with a 1 h lease', async () => {
    const client = etcd.client();
    const rec = new EventRecorder({ client, source: { component: 'agent', node: 'host-1' } });
    // closed also when the test fails: its writes end before the worker's next file
    onTestFinished(() => rec.close());
    const nic = { kind: 'ContainerNic', name: 'dedup-eth1' };
    await rec.record(nic, 'Warning', 'ContainerNotFound', 'no container "x" on host-1');
    await rec.record(nic, 'Warning', 'ContainerNotFound', 'no container "x" on host-1');
    await rec.record(nic, 'Normal', 'Attached', 'attached on node host-1');
    const kvs = (await client.getAll().prefix('/xnet/events/nodes/host-1/containernics/dedup-eth1/').exec()).kvs;
    expect(kvs).toHaveLength(2);
    const { items } = await listEvents(client, undefined, nic);
    expect(items.map((e) => [e.reason, e.count])).toEqual([['ContainerNotFound', 2], ['Attached', 1]]);
    expect(items[0].lastTimestamp >= items[0].firstTimestamp).toBe(true);
    const ttl = await client.leaseClient.leaseTimeToLive({ ID: kvs[0].lease });
    expect(Number(ttl.grantedTTL)).toBe(3600);
    expect((await client.getAll().prefix('/xnet/registry/').keys())).toEqual([]);
  });

  it('with a leader\'s guard, writes only while that term lasts: a deposed leader\'s count never lands over the new one\'s', async () => {
    const client = etcd.client();
    const prefix = uniquePrefix();
    const election = `${prefix}/election`;
    const term = String((await client.put(election).value('old')).header.revision);
    const guard = { key: Buffer.from(election), target: 'Create' as const, result: 'Equal' as const, create_revision: term };
    const old = new EventRecorder({ client, prefix, source: { component: 'controller' }, guard: () => guard });
    onTestFinished(() => old.close());
    const node = { kind: 'Node', name: 'paused' };
    const count = async () => (await listEvents(client, prefix, node)).items.map((e) => e.count);
    await old.record(node, 'Warning', 'NodeLost', 'gone');
    expect(await count()).toEqual([1]);
    // the old leader is paused past its lease: its key goes, a new leader takes it and counts on
    await client.delete().key(election);
    await client.put(election).value('new');
    const next = new EventRecorder({ client, prefix, source: { component: 'controller' } });
    onTestFinished(() => next.close());
    await next.record(node, 'Warning', 'NodeLost', 'gone');
    await next.record(node, 'Warning', 'NodeLost', 'gone');
    expect(await count()).toEqual([3]);
    // resumed, the old one still remembers count 1: without the guard it wrote 2 over the 3
    await old.record(node, 'Warning', 'NodeLost', 'gone');
    expect(await count()).toEqual([3]);
    // an occurrence counts for the term it was recorded in, even when written under a newer one
    // (this process leads again by the time it is written: term `ours` began meanwhile)
    await client.delete().key(election);
    const ours = { ...guard, create_revision: String((await client.put(election).value('ours again')).header.revision) };
    let now = guard;
    const again = new EventRecorder({ client, prefix, source: { component: 'controller' }, guard: () => now });
    onTestFinished(() => again.close());
    const late = again.record({ kind: 'Node', name: 'late' }, 'Warning', 'NodeLost', 'gone');
    now = ours;
    await late;
    expect((await listEvents(client, prefix, { kind: 'Node', name: 'late' })).items).toEqual([]);
    // and a recorder of no term (guard undefined) writes nothing
    const none = new EventRecorder({ client, prefix, source: { component: 'controller' }, guard: () => undefined });
    onTestFinished(() => none.close());
    await none.record({ kind: 'Node', name: 'no-term' }, 'Normal', 'NodeReady', 'back');
    expect((await listEvents(client, prefix, { kind: 'Node', name: 'no-term' })).items).toEqual([]);
  });

  it('events expire with their lease', async () => {
    const client = etcd.client();
    const rec = new EventRecorder({ client, source: { component: 'controller' }, ttlSeconds: 2 });
    onTestFinished(() => rec.close());
    await rec.record({ kind: 'Node', name: 'expiring' }, 'Warning', 'NodeLost', 'gone');
    expect((await listEvents(client, undefined, { kind: 'Node', name: 'expiring' })).items).toHaveLength(1);
    await eventually(async () => (await listEvents(client, undefined, { kind: 'Node', name: 'expiring' })).items.length === 0, 'the event to expire', 15_000);
  });

  it('takes a new lease when etcd no longer has its own (etcd restored from an older backup): the next event is recorded', async () => {
    const client = etcd.client();
    const rec = new EventRecorder({ client, source: { component: 'controller' } });
    onTestFinished(() => rec.close());
    const obj = { kind: 'Node', name: 'lease-gone' };
    await rec.record(obj, 'Warning', 'NodeLost', 'gone');
    const [first] = (await client.getAll().prefix('/xnet/events/controller/nodes/lease-gone/').exec()).kvs;
    // what a restore does to a lease granted after the backup: etcd has never heard of it
    await client.leaseClient.leaseRevoke({ ID: first.lease });
    expect((await listEvents(client, undefined, obj)).items).toEqual([]);
    await rec.record(obj, 'Normal', 'NodeReady', 'back');
    expect((await listEvents(client, undefined, obj)).items.map((e) => e.reason)).toEqual(['NodeReady']);
  });

  it('a burst beyond the rate limit is dropped and counted (also in xnet_events_dropped_total), not queued', async () => {
    const client = etcd.client();
    const droppedMetric = async () => (await eventsDropped.get()).values.find((v) => v.labels.component === 'controller')?.value ?? 0;
    const before = await droppedMetric();
    const rec = new EventRecorder({ client, prefix: '/burst', source: { component: 'controller' }, perSecond: 0.001, burst: 5 });
    onTestFinished(() => rec.close());
    await Promise.all(Array.from({ length: 20 }, (_, i) => rec.record({ kind: 'Node', name: `n${i}` }, 'Normal', 'Allocated', 'x')));
    expect((await listEvents(client, '/burst')).items).toHaveLength(5);
    expect(rec.dropped).toBe(15);
    // and an operator sees it: xnet_events_dropped_total
    expect(await droppedMetric() - before).toBe(15);
  });

  it('a value that is not an event is skipped, not fatal', async () => {
    const client = etcd.client();
    await client.put('/skip/events/nodes/evil/nodes/x/1').value('{"not":"an event"}');
    const rec = new EventRecorder({ client, prefix: '/skip', source: { component: 'controller' } });
    onTestFinished(() => rec.close());
    await rec.record({ kind: 'Node', name: 'x' }, 'Normal', 'Ready', 'ok');
    const l = await listEvents(client, '/skip');
    expect(l.items.length).toBe(1);
    expect(l.skipped).toEqual([{ key: '/skip/events/nodes/evil/nodes/x/1', error: expect.stringMatching(/Required|expected/) }]);
  });
});

describe('an event\'s source', () => {
  it('is the one its key names: a node cannot write an event shown as the controller\'s or another node\'s', async () => {
    const client = etcd.client();
    const now = new Date().toISOString();
    const forged = (source: Record<string, string>) => JSON.stringify({
      involvedObject: { kind: 'Node', name: 'host-2' }, type: 'Warning', reason: 'NodeLost', message: 'host-2 is compromised',
      source, count: 1, firstTimestamp: now, lastTimestamp: now,
    });
    // under host-1's prefix, the only events host-1's credentials may write
    await client.put('/src/events/nodes/host-1/nodes/host-2/1').value(forged({ component: 'controller' }));
    await client.put('/src/events/nodes/host-1/nodes/host-2/2').value(forged({ component: 'agent', node: 'host-2' }));
    // outside any source's prefix: nobody's
    await client.put('/src/events/elsewhere/3').value(forged({ component: 'controller' }));
    const l = await listEvents(client, '/src', { kind: 'Node', name: 'host-2' });
    expect(l.items.map((e) => e.source)).toEqual([{ component: 'agent', node: 'host-1' }, { component: 'agent', node: 'host-1' }]);
    expect(l.skipped).toEqual([{ key: '/src/events/elsewhere/3', error: 'not under the events of the controller or of a node' }]);
  });
});

describe('an event nested deep', () => {
  it('is shown with the fields of an event: get events -o json and -o yaml still print every event', async () => {
    const client = etcd.client();
    const now = new Date().toISOString();
    // what host-1's credentials may write under its own events: 1 MB of nesting in an extra field
    const deep = `${'['.repeat(250_000)}${']'.repeat(250_000)}`;
    const key = '/xnet/events/nodes/host-1/nodes/host-2/deep';
    await client.put(key).value(`{"involvedObject":{"kind":"Node","name":"host-2"},"type":"Warning","reason":"Deep","message":"deep",`
      + `"source":{"component":"agent"},"count":1,"firstTimestamp":"${now}","lastTimestamp":"${now}","extra":${deep}}`);
    onTestFinished(async () => { await client.delete().key(key); });
    for (const format of ['json', 'yaml']) {
      const r = await xctl(['get', 'events', '--for', 'node/host-2', '-o', format]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toContain('Deep');
      expect(r.out).not.toContain('extra');
    }
  });
});

describe('xctl get events and describe', () => {
  it('lists events, filters with --for, follows with -w, and describe ends with the object\'s events', async () => {
    const rec = new EventRecorder({ client: etcd.client(), source: { component: 'agent', node: 'host-2' } });
    onTestFinished(() => rec.close());
    await rec.record({ kind: 'ContainerNic', name: 'cli-eth1' }, 'Normal', 'Attached', 'attached on node host-2 with 10.76.2.9');
    await rec.record({ kind: 'HostSubnet', name: 'cli-hs' }, 'Warning', 'NetworkConflict', 'Docker network net1 exists and was not made by xnet');
    const all = await xctl(['get', 'events']);
    expect(all.code, all.err).toBe(0);
    expect(all.out).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+COUNT\s+SOURCE\s+MESSAGE/);
    expect(all.out).toMatch(/Normal\s+Attached\s+containernic\/cli-eth1\s+1\s+agent\/host-2\s+attached on node host-2/);
    const one = await xctl(['get', 'events', '--for', 'nic/cli-eth1', '-o', 'json']);
    expect(JSON.parse(one.out).items.map((e: { reason: string }) => e.reason)).toEqual(['Attached']);
    // -o yaml: the same List (it was a stream of documents, unlike -o json and get KIND -o yaml)
    const yaml = await xctl(['get', 'events', '--for', 'nic/cli-eth1', '-o', 'yaml']);
    expect(yaml.code).toBe(0);
    expect(parseYaml(yaml.out)).toEqual(JSON.parse(one.out));
    expect((await xctl(['get', 'events', '--for', 'nonsense'])).code).toBe(2);

    const ac = new AbortController();
    // ends the -w watch also when the test fails before its output aborts it
    onTestFinished(() => ac.abort());
    const watching = xctl(['get', 'events', '--for', 'hostsubnet/cli-hs', '-w'], ac.signal, (out) => { if (/IpCommandFailed/.test(out)) ac.abort(); });
    await new Promise((r) => setTimeout(r, 500));
    await rec.record({ kind: 'HostSubnet', name: 'cli-hs' }, 'Warning', 'IpCommandFailed', 'ip link add failed');
    const w = await Promise.race([watching, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('watch printed nothing')), 15_000))]);
    expect(w.out).toMatch(/NetworkConflict[\s\S]*IpCommandFailed/);
    expect(w.out).not.toMatch(/Attached/);

    await storeFor(etcd.client(), '/xnet').create({ apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'cli-node' }, spec: {} } as never);
    expect((await xctl(['describe', 'node', 'cli-node'])).out).toMatch(/Events:\s+<none>\n$/);
    // a node's agent records its heals on its own Node (only its node's agent speaks about a Node: read.ts fromItsNode)
    const own = new EventRecorder({ client: etcd.client(), source: { component: 'agent', node: 'cli-node' } });
    await own.record({ kind: 'Node', name: 'cli-node' }, 'Normal', 'Healed', 'repaired Route drift on node cli-node');
    await own.record({ kind: 'Node', name: 'cli-node' }, 'Normal', 'Healed', 'repaired Route drift on node cli-node');
    const d = await xctl(['describe', 'node', 'cli-node']);
    expect(d.code, d.err).toBe(0);
    expect(d.out).toMatch(/Conditions:[\s\S]*Events:\n  TYPE\s+REASON\s+AGE\s+COUNT\s+FROM\s+MESSAGE\n  Normal\s+Healed\s+\S+\s+2\s+agent\/cli-node\s+repaired Route drift on node cli-node\n$/);
  });
});

describe('describe\'s one listing of the events', () => {
  it('is read at the revision of the moment when etcd compacted the objects\' revision away', async () => {
    const rec = new EventRecorder({ client: etcd.client(), source: { component: 'controller' } });
    onTestFinished(() => rec.close());
    await rec.record({ kind: 'ContainerNic', name: 'compacted-eth1' }, 'Normal', 'Allocated', 'allocated 10.76.9.9');
    const raw = etcd.client();
    const objectsAt = Number((await raw.put('/events-test-filler').value('1').exec()).header.revision);
    const now = (await raw.put('/events-test-filler').value('2').exec()).header.revision;
    await raw.kv.compact({ revision: now, physical: true });
    const session = new Session({ endpoints: etcd.endpoints });
    onTestFinished(() => session.close());
    const all = await eventsOnce(session)(objectsAt);
    expect(all.revision).toBeGreaterThan(objectsAt);
    expect(all.events.map((e) => e.event.involvedObject.name)).toContain('compacted-eth1');
  });
});

describe('describe\'s listing of the events for objects read at a later revision', () => {
  // describe reads each kind's objects in turn (`describe no/a nic/b`, `describe hs,nic`), each at
  // the revision of its moment: the events shown with an object must be at least that new, or an
  // event written between the two reads is missing beside the status it explains
  it('is read again, so an event written after the first kind\'s read is shown with the second kind\'s object', async () => {
    const raw = etcd.client();
    const revisionNow = async () => Number((await raw.put('/events-test-filler').value(String(Date.now())).exec()).header.revision);
    const session = new Session({ endpoints: etcd.endpoints });
    onTestFinished(() => session.close());
    const events = eventsOnce(session);
    const firstKindAt = await revisionNow();
    expect((await events(firstKindAt)).events.map((e) => e.event.involvedObject.name)).not.toContain('later-eth1');
    const rec = new EventRecorder({ client: raw, source: { component: 'controller' } });
    onTestFinished(() => rec.close());
    await rec.record({ kind: 'ContainerNic', name: 'later-eth1' }, 'Normal', 'Allocated', 'allocated 10.76.9.10');
    const secondKindAt = await revisionNow();
    const all = await events(secondKindAt);
    expect(all.revision).toBeGreaterThanOrEqual(secondKindAt);
    expect(all.events.map((e) => e.event.involvedObject.name)).toContain('later-eth1');
  });
});

describe('describe of objects of two kinds with one name', () => {
  // the kinds share describe's one listing of the events: each object shows only its own kind's
  it('shows each object the events about its own kind', async () => {
    const store = storeFor(etcd.client(), '/xnet');
    await store.create({ apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'twin' }, spec: {} } as never);
    await store.create({ apiVersion: 'xnet.io/v1alpha1', kind: 'ClusterNetwork', metadata: { name: 'twin' }, spec: { cidr: '10.91.0.0/16', hostPrefix: 24 } } as never);
    const rec = new EventRecorder({ client: etcd.client(), source: { component: 'controller' } });
    onTestFinished(() => rec.close());
    await rec.record({ kind: 'Node', name: 'twin' }, 'Warning', 'NodeLost', 'node twin stopped heartbeating');
    await rec.record({ kind: 'ClusterNetwork', name: 'twin' }, 'Normal', 'Validated', 'cluster network twin checked');
    const d = await xctl(['describe', 'no/twin', 'cn/twin']);
    expect(d.code, d.err).toBe(0);
    const [node, cn] = d.out.split(/\n\n\n/);
    expect(node).toMatch(/^Name:\s+twin\nKind:\s+Node\n/m);
    expect(node).toMatch(/\nEvents:\n  TYPE\s+REASON\s+AGE\s+COUNT\s+FROM\s+MESSAGE\n  Warning\s+NodeLost\s+[^\n]*\n?$/);
    expect(cn).toMatch(/^Name:\s+twin\nKind:\s+ClusterNetwork\n/m);
    expect(cn).toMatch(/\nEvents:\n  TYPE\s+REASON\s+AGE\s+COUNT\s+FROM\s+MESSAGE\n  Normal\s+Validated\s+[^\n]*\n?$/);
  });
});

describe('xctl get events -w of no events', () => {
  it('says so, then prints the header with the first row, aligned to it, as get KIND -w does', async () => {
    const rec = new EventRecorder({ client: etcd.client(), source: { component: 'agent', node: 'host-2' } });
    onTestFinished(() => rec.close());
    // an object name longer than any column width a header printed alone could have guessed
    const name = `w9-${'n'.repeat(45)}`;
    const ac = new AbortController();
    onTestFinished(() => ac.abort());
    let listed!: () => void;
    const saidNone = new Promise<void>((r) => { listed = r; });
    const r = { code: -1, out: '', err: '' };
    const watching = runXctl(['get', 'events', '-w', '--for', `nic/${name}`], {
      // the list is read once it said so, or once it printed anything (a header at once)
      out: (t) => { r.out += t; listed(); if (r.out.includes('ContainerNotFound')) ac.abort(); },
      err: (t) => { r.err += t; if (r.err.includes('No events found.')) listed(); },
      stdin: async () => '', env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') }, signal: ac.signal,
    });
    await saidNone;
    // nothing was printed before a row came: the header waits for it
    expect(r.out).toBe('');
    await rec.record({ kind: 'ContainerNic', name }, 'Warning', 'ContainerNotFound', `no container "w9" on host-2`);
    r.code = await watching;
    expect(r.code).toBe(0);
    expect(r.err).toBe('No events found.\n');
    const [header, first] = r.out.split('\n');
    expect(header).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+COUNT\s+SOURCE\s+MESSAGE$/);
    expect(first).toMatch(/Warning\s+ContainerNotFound\s+containernic\/w9-n+\s+1\s+agent\/host-2\s+no container "w9" on host-2$/);
    // every column starts where its header does
    for (const [col, cell] of [['TYPE', 'Warning'], ['REASON', 'ContainerNotFound'], ['OBJECT', 'containernic/'], ['COUNT', '1 '], ['SOURCE', 'agent/'], ['MESSAGE', 'no container']]) {
      expect(first.indexOf(cell), col).toBe(header.indexOf(col));
    }
  });
});

describe('the controller records events', () => {
  let c: Controller | undefined;
  afterAll(async () => { await c?.stop(); });

  it('allocated and refused allocations, and a node whose agent stopped heartbeating', async () => {
    const prefix = uniquePrefix();
    const client = etcd.client();
    const store = storeFor(client, prefix);
    c = await startController(client, prefix);
    const obj = (kind: string, name: string, spec: object) => ({ apiVersion: 'xnet.io/v1alpha1', kind, metadata: { name }, spec });
    for (const o of [obj('ClusterNetwork', 'tiny', { cidr: '10.95.0.0/24', hostPrefix: 25 }), obj('Node', 'e-1', {}), obj('Node', 'e-2', {}), obj('Node', 'e-3', {})]) {
      await store.create(o as never);
    }
    const events = async () => (await listEvents(client, prefix)).items;
    await eventually(async () => (await events()).filter((e) => e.reason === 'Allocated' && e.involvedObject.kind === 'HostSubnet').length === 2, 'two Allocated events');
    await eventually(async () => (await events()).some((e) => e.type === 'Warning' && e.reason === 'PoolExhausted' && e.involvedObject.name === 'tiny-e-3'), 'a PoolExhausted event');
    // an agent's lease-bound status appears, then goes
    await store.writeStatus('Node', 'e-1', { node: 'e-1' }, { lastHeartbeatTime: new Date().toISOString() });
    await new Promise((r) => setTimeout(r, 500));
    await store.deleteStatus('Node', 'e-1', { node: 'e-1' });
    const lost = await eventually(async () => (await events()).find((e) => e.reason === 'NodeLost'), 'a NodeLost event');
    // the Node's incarnation too: a Node made again under the name shows none of this one's events
    expect(lost.involvedObject).toEqual({ kind: 'Node', name: 'e-1', uid: (await store.get('Node', 'e-1'))!.metadata.uid });
    expect(lost.source).toEqual({ component: 'controller' });
    // no NodeReady for a node's first report, only for one back after a loss
    expect((await events()).some((e) => e.reason === 'NodeReady')).toBe(false);
    await store.writeStatus('Node', 'e-1', { node: 'e-1' }, { lastHeartbeatTime: new Date().toISOString() });
    const back = await eventually(async () => (await events()).find((e) => e.reason === 'NodeReady'), 'a NodeReady event');
    expect(back).toMatchObject({ type: 'Normal', involvedObject: { kind: 'Node', name: 'e-1' } });
    expect(back.message).toContain('the agent reports again');
  });
});

describe('watchEvents', () => {
  // It used to fail ("run the command again") when its start revision was compacted away; it
  // now lists the events again, as `get -w` relists objects (xctl-watch-resume.test.ts).
  it('tells the events written after its start revision when that revision was compacted away, in order, and goes on', async () => {
    const client = etcd.client();
    const prefix = uniquePrefix();
    const rec = new EventRecorder({ client, prefix, source: { component: 'controller' } });
    onTestFinished(() => rec.close());
    await rec.record({ kind: 'Node', name: 'w-1' }, 'Normal', 'Allocated', 'first');
    const listed = (await listEvents(client, prefix)).revision;
    await rec.record({ kind: 'Node', name: 'w-1' }, 'Normal', 'Allocated', 'second');
    await rec.record({ kind: 'Node', name: 'w-1' }, 'Normal', 'Allocated', 'third');
    const now = Number((await client.kv.range({ key: Buffer.from('/nothing'), limit: 1 })).header.revision);
    await client.kv.compact({ revision: String(now), physical: true });
    const ac = new AbortController();
    // a watch still running when the test ends (failed or timed out) is ended, not left to the next file
    onTestFinished(() => ac.abort());
    const told: string[] = [];
    let outcome = 'running';
    void watchEvents(client, prefix, listed, undefined, { onEvent: (e) => told.push(e.message) }, ac.signal)
      .then(() => { outcome = 'ended'; }, (e: Error) => { outcome = e.message; });
    await until(() => told.length >= 2 || outcome !== 'running', 'the events after the listing told');
    expect(told).toEqual(['second', 'third']);
    await rec.record({ kind: 'Node', name: 'w-1' }, 'Normal', 'Allocated', 'fourth');
    await until(() => told.length >= 3 || outcome !== 'running', 'a later event told');
    expect(told).toEqual(['second', 'third', 'fourth']);
    expect(outcome).toBe('running');
  });
});
