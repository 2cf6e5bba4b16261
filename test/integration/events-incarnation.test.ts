// Events are about one incarnation of an object: a ContainerNic deleted and applied again under
// its name shows in `describe` and `get events --for` only its own events (the controller's
// Allocated, the agent's ContainerNotFound), counted anew, never its predecessor's; an event
// written before events carried uids is still shown (an upgrade hides nothing); `get events`
// without --for still lists every event.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { EventRecorder } from '../../pkg/events/recorder.js';
import { listEvents } from '../../pkg/events/read.js';
import { NodeStatusReporter, notReady } from '../../pkg/agent/context.js';
import type { ContainerNic } from '../../pkg/api/index.js';
import type { XnetEvent } from '../../pkg/events/types.js';
import { runXctl } from '../../pkg/cli/program.js';
import { eventually, startController, storeFor } from './controller-helpers.js';
import type { Controller } from '../../pkg/controller/controller.js';

let etcd: TestEtcd;
let c: Controller;
beforeAll(async () => {
  etcd = await startEtcd();
  // xctl reads /xnet: the controller works there too
  c = await startController(etcd.client(), '/xnet', { addressCooldownMs: 0 });
});
afterAll(async () => { try { await c?.stop(); } finally { await etcd?.stop(); } });

async function xctl(args: string[], stdin = '') {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, { out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => stdin, env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') } });
  return r;
}

const V = 'apiVersion: xnet.io/v1alpha1';
const NIC = 'host-1-test-eth1';
const nicDoc = `${V}\nkind: ContainerNic\nmetadata: {name: ${NIC}}\nspec: {node: host-1, container: test, ifName: eth1, network: {clusterNetwork: pods}}\n`;
const setup = `${V}\nkind: Node\nmetadata: {name: host-1}\nspec: {address: 198.18.0.11}\n---\n${V}\nkind: ClusterNetwork\nmetadata: {name: pods}\nspec: {cidr: 10.76.0.0/16, hostPrefix: 24}\n---\n${nicDoc}`;

/** The events of NIC, whatever their incarnation, read straight from etcd. */
const nicEvents = async () => (await listEvents(etcd.client(), undefined, { kind: 'ContainerNic', name: NIC })).items;
/** Waits for an event of the NIC with that reason, last seen since `since`. */
const eventSince = (reason: string, since: string) =>
  eventually(async () => (await nicEvents()).find((e) => e.reason === reason && e.lastTimestamp >= since), `a ${reason} event since ${since}`);

/** The rows of describe's Events section: TYPE REASON COUNT FROM (AGE and MESSAGE left out). */
function describedEvents(out: string): string[][] {
  const section = out.slice(out.indexOf('\nEvents:\n') + '\nEvents:\n'.length).trimEnd().split('\n').slice(1);
  return section.map((l) => l.trim().split(/\s{2,}/)).map(([type, reason, , count, from]) => [type, reason, count, from]);
}

describe('events of an object deleted and made again under its name', () => {
  it('describe and get events --for show only the current incarnation\'s, counted anew; get events shows all', async () => {
    const store = storeFor(etcd.client(), '/xnet');
    // the agent of host-1, as its status reporter announces a NIC that is not Ready
    const rec = new EventRecorder({ client: etcd.client(), source: { component: 'agent', node: 'host-1' } });
    onTestFinished(() => rec.close());
    const agent = new NodeStatusReporter(store, 'host-1', rec);
    const notFound = async (nic: ContainerNic) => {
      await agent.write('ContainerNic', nic, {}, notReady('ContainerNotFound', 'no container "test" on node host-1'));
      await eventSince('ContainerNotFound', nic.metadata.creationTimestamp!);
      // the agent takes its report back (the NIC is out of its container): the delete may finish
      await agent.remove('ContainerNic', NIC);
    };
    expect((await xctl(['apply', '-f', '-'], setup)).code).toBe(0);
    const first = (await store.get('ContainerNic', NIC)) as ContainerNic;
    await eventSince('Allocated', first.metadata.creationTimestamp!);
    await notFound(first);
    // an event written by a version before events carried uids: shown for whichever NIC has the name
    const legacy: XnetEvent = {
      involvedObject: { kind: 'ContainerNic', name: NIC }, type: 'Normal', reason: 'Attached', message: 'written before uids',
      source: { component: 'agent', node: 'host-1' }, count: 3, firstTimestamp: new Date().toISOString(), lastTimestamp: new Date().toISOString(),
    };
    await etcd.client().put(`/xnet/events/nodes/host-1/containernics/${NIC}/0123456789abcdef`).value(JSON.stringify(legacy));

    expect((await xctl(['delete', 'nic', NIC])).code).toBe(0);
    await eventually(async () => (await store.get('ContainerNic', NIC)) === undefined || undefined, 'the first NIC gone');
    expect((await xctl(['apply', '-f', '-'], nicDoc)).code).toBe(0);
    const second = (await store.get('ContainerNic', NIC)) as ContainerNic;
    expect(second.metadata.uid).not.toBe(first.metadata.uid);
    await eventSince('Allocated', second.metadata.creationTimestamp!);
    await notFound(second);

    const d = await xctl(['describe', 'nic', NIC]);
    expect(d.code, d.err).toBe(0);
    expect(d.out).toContain(`UID:          ${second.metadata.uid}`);
    expect(describedEvents(d.out).sort()).toEqual([
      ['Normal', 'Allocated', '1', 'controller'],
      ['Normal', 'Attached', '3', 'agent/host-1'],
      // Normal: a NIC applied before its container is made passes through it (agent/settling.ts)
      ['Normal', 'ContainerNotFound', '1', 'agent/host-1'],
    ]);
    const forIt = await xctl(['get', 'events', '--for', `nic/${NIC}`, '-o', 'json']);
    const items = JSON.parse(forIt.out).items as XnetEvent[];
    expect(items.map((e) => [e.reason, e.count, e.involvedObject.uid]).sort()).toEqual([
      ['Allocated', 1, second.metadata.uid], ['Attached', 3, undefined], ['ContainerNotFound', 1, second.metadata.uid],
    ]);
    // without --for: every event, the first NIC's too
    const all = JSON.parse((await xctl(['get', 'events', '-o', 'json'])).out).items as XnetEvent[];
    const notFounds = all.filter((e) => e.reason === 'ContainerNotFound' && e.involvedObject.name === NIC);
    expect(notFounds.map((e) => [e.involvedObject.uid, e.count]).sort()).toEqual([[first.metadata.uid, 1], [second.metadata.uid, 1]].sort());
  });

  it('get events --for a name no object has now lists every event of that name', async () => {
    expect((await xctl(['delete', 'nic', NIC])).code).toBe(0);
    await eventually(async () => (await storeFor(etcd.client(), '/xnet').get('ContainerNic', NIC)) === undefined || undefined, 'the NIC gone');
    const items = JSON.parse((await xctl(['get', 'events', '--for', `nic/${NIC}`, '-o', 'json'])).out).items as XnetEvent[];
    expect(items.filter((e) => e.reason === 'ContainerNotFound')).toHaveLength(2);
  });
});
