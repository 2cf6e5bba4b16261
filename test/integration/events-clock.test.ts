// The event recorder's rate limit and lease renewal time intervals inside one process: a wall
// clock set back (NTP, an admin, a VM resumed) must not stop events from being written for as
// long as it was set back. Only Date is faked here; etcd and its leases run in real time.
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { EventRecorder } from '../../pkg/events/recorder.js';
import { listEvents } from '../../pkg/events/read.js';
import { uniquePrefix } from './controller-helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });
afterEach(() => { vi.useRealTimers(); });

const nic = { kind: 'ContainerNic', name: 'clock-eth1' };
const source = { component: 'agent' as const, node: 'host-1' };
const counts = async (prefix: string) => (await listEvents(etcd.client(), prefix, nic)).items.map((e) => e.count);

describe('events when the wall clock is set back an hour', () => {
  it('are still written: the rate limit does not count the hour against them', async () => {
    const prefix = uniquePrefix();
    vi.useFakeTimers({ toFake: ['Date'] });
    const rec = new EventRecorder({ client: etcd.client(), prefix, source });
    // closed also when the test fails before its own close: its writes end before the worker's next file
    onTestFinished(() => rec.close());
    await rec.record(nic, 'Warning', 'ContainerNotFound', 'no container "x"');
    vi.setSystemTime(Date.now() - 3_600_000);
    await rec.record(nic, 'Warning', 'ContainerNotFound', 'no container "x"');
    await rec.close();
    expect({ dropped: rec.dropped, counts: await counts(prefix) }).toEqual({ dropped: 0, counts: [2] });
  });

  it('are still written once the lease granted before goes: it is renewed on time', async () => {
    const prefix = uniquePrefix();
    vi.useFakeTimers({ toFake: ['Date'] });
    // a lease of 3 s is renewed every 250 ms of the recorder's time
    const rec = new EventRecorder({ client: etcd.client(), prefix, source, ttlSeconds: 3 });
    onTestFinished(() => rec.close());
    await rec.record(nic, 'Warning', 'ContainerNotFound', 'no container "x"');
    vi.setSystemTime(Date.now() - 3_600_000);
    await new Promise((r) => setTimeout(r, 3500)); // the first lease has run out in etcd
    await rec.record(nic, 'Warning', 'ContainerNotFound', 'no container "x"');
    await rec.close();
    expect(await counts(prefix)).toEqual([2]);
  });
});

