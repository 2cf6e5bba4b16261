// A compromised node writing events about another node's objects, with its own certificate (its
// events subtree takes any object's name): `xctl describe` and `get events --for` of an object
// bound to a node (a ContainerNic, a HostSubnet, a Node) show only the controller's events and
// that node's agent's, and say on stderr how many they left out and whose (pkg/events/read.ts
// fromItsNode); `get events` without --for still lists every event, under its writer's name.
// Before, 300 events host-1 wrote about host-2's NIC filled its describe, newest last for ever
// (a timestamp in 2099). Real etcd with TLS and auth: events as node-host-1 and node-host-2, xctl
// as the admin.
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventRecorder } from '../../pkg/events/recorder.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { Keys } from '../../pkg/store/keys.js';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { xctlAsAdmin } from '../harness/xctl-in-process.js';
import { obj } from './helpers.js';

let etcd: TestEtcd;
let host1: Etcd3;
let host2: Etcd3;
const keys = new Keys();
beforeAll(async () => {
  etcd = await startEtcd({ auth: true });
  host1 = etcd.auth!.clientAs(await etcd.auth!.addNode('host-1'));
  host2 = etcd.auth!.clientAs(await etcd.auth!.addNode('host-2'));
}, 60_000);
afterAll(async () => { await etcd?.stop(); });

/** xctl as the admin (xnet-admin's certificate), in-process */
const xctl = (...args: string[]) => xctlAsAdmin(etcd, ...args);

const forged = (i: number) => JSON.stringify({
  involvedObject: { kind: 'ContainerNic', name: 'web-eth1' }, type: 'Warning', reason: 'Hijacked', message: `forged ${i}`,
  source: { component: 'agent', node: 'host-2' }, count: 1, firstTimestamp: '2099-01-01T00:00:00Z', lastTimestamp: '2099-01-01T00:00:00Z',
});

describe("events a node writes about another node's objects", () => {
  it("are left out of that object's describe and get events --for, and named on stderr; get events lists them", async () => {
    const admin = createEtcdStore(etcd.auth!.clientAs(etcd.auth!.ids.admin));
    await admin.applyAll([
      obj('ClusterNetwork', 'default', { cidr: '10.96.0.0/16', hostPrefix: 24 }),
      obj('ContainerNic', 'web-eth1', { node: 'host-2', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'default' } }),
      obj('MacvlanNet', 'lan', { subnet: '10.80.0.0/24' }),
    ]);
    // host-2's agent speaks about its NIC; host-1 about it too, 300 times, and about the MacvlanNet both are on
    await new EventRecorder({ client: host2, source: { component: 'agent', node: 'host-2' } }).record({ kind: 'ContainerNic', name: 'web-eth1' }, 'Normal', 'Attached', 'attached on node host-2');
    for (let i = 0; i < 300; i++) await host1.put(`${keys.nodeEvents('host-1')}containernics/web-eth1/f${i}`).value(forged(i));
    await new EventRecorder({ client: host1, source: { component: 'agent', node: 'host-1' } }).record({ kind: 'MacvlanNet', name: 'lan' }, 'Normal', 'Ready', 'ready on node host-1');
    const note = 'warning: 300 event(s) about containernic/web-eth1 written by agent/host-1, not by its node\'s agent (host-2), not shown; xctl get events shows them\n';

    const d = await xctl('describe', 'nic', 'web-eth1');
    expect(d.code, d.err).toBe(0);
    expect(d.out).toMatch(/Events:\n  TYPE\s+REASON\s+AGE\s+COUNT\s+FROM\s+MESSAGE\n  Normal\s+Attached\s+\S+\s+1\s+agent\/host-2\s+attached on node host-2\n$/);
    expect(d.err).toBe(note);
    const f = await xctl('get', 'events', '--for', 'nic/web-eth1');
    expect(f.code, f.err).toBe(0);
    expect(f.out).not.toMatch(/Hijacked/);
    expect(f.out).toMatch(/Attached/);
    expect(f.err).toBe(note);
    // an object bound to no node: every node's agent may speak about it
    expect((await xctl('describe', 'mvn', 'lan')).out).toMatch(/Normal\s+Ready\s+\S+\s+1\s+agent\/host-1\s+ready on node host-1/);
    // all events: each under the name of the node that wrote it
    const all = await xctl('get', 'events');
    expect(all.out.split('\n').filter((l) => /Hijacked\s+containernic\/web-eth1\s+1\s+agent\/host-1\s+forged/.test(l))).toHaveLength(300);
  }, 60_000);
});
