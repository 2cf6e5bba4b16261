// Issue 10: containers started on one node cost the other nodes' agents no watch event. A
// MacvlanNet's status was one key holding every node's pre-claims and the pool's `used` count:
// each container started anywhere rewrote it, and etcd sent the whole of it to every agent
// (O(hosts) bytes x O(hosts) watchers per container). Now a node's part is in its own index and
// the counts in a key no agent watches (store/macvlan-parts.ts). Real etcd, the real controller,
// each node's report written as its agent writes it, and each node's view (NodeView) as its
// agent runs it; the other node's view is asked what it received, key by key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { NodeView } from '../../pkg/store/node-view.js';
import type { CacheChange } from '../../pkg/runtime/kv-cache.js';
import type { MacvlanNodeStatus } from '../../pkg/api/index.js';
import { useMacvlanParts } from './macvlan-parts.js';
import { eventually, obj, statusOf, storeFor, uniquePrefix } from './controller-helpers.js';

const fx = useMacvlanParts();
const MVN = 'fan';
const views: NodeView[] = [];
let client: Etcd3;
beforeAll(() => { client = fx.etcd.client(); });
afterAll(async () => { for (const v of views) await v.close(); });

async function viewOf(node: string): Promise<NodeView> {
  const v = new NodeView(client, fx.store.keys, node);
  views.push(v);
  await v.start();
  return v;
}

/** The node's own part of the MacvlanNet as its view (its agent) sees it. */
async function ownPart(v: NodeView): Promise<MacvlanNodeStatus | undefined> {
  const m = (await v.list('MacvlanNet')).items.find((o) => o.metadata.name === MVN);
  return (statusOf(m).nodes as MacvlanNodeStatus[] | undefined)?.find((n) => n.name === v.node);
}

describe("a container started on another node", () => {
  it("reaches this node's agent as no watch event at all; the node that started it gets its refilled part", async () => {
    await fx.segment(MVN, { subnet: '10.81.0.0/16', gateway: '10.81.255.254', dockerIPAM: 'xnet', hostShim: true }, 'fan', ['fan-a', 'fan-b']);
    const atHand = await fx.firstAtHand(MVN, 'fan-a');
    await fx.firstAtHand(MVN, 'fan-b');
    const [a, b] = [await viewOf('fan-a'), await viewOf('fan-b')];
    const before = (await eventually(async () => ownPart(a), "fan-a's part in its view"))!.addresses!;
    expect(before[0]).toBe(atHand);
    expect((await ownPart(b))?.addresses?.length).toBeGreaterThan(0);
    const received: CacheChange[] = [];
    b.cache.onChange((c) => received.push(c));

    // fan-a's plugin gives six of its addresses to containers: below the low-water mark, the controller refills
    const used = before.slice(0, 6);
    await fx.report(MVN, 'fan-a', { assigned: used.map((ip, i) => ({ ip, container: `c${i}`, name: `c${i}` })) });
    await eventually(async () => statusOf(await fx.store.get('MacvlanNet', MVN)).used === 6, 'status.used 6 (xctl get)');
    const after = await eventually(async () => {
      const p = await ownPart(a);
      return p?.addresses?.some((ip) => !before.includes(ip)) ? p : undefined;
    }, "fan-a's view shows its refilled pre-claims");
    expect(after.addresses).toEqual(expect.arrayContaining(used));

    // one watch stream delivers in revision order: once a later key reached fan-b's view, every
    // earlier write it was to receive has
    const marker = fx.store.keys.object('Node', 'fan-marker');
    await fx.store.create(obj('Node', 'fan-marker', { interface: 'eth0' }));
    await eventually(async () => received.some((c) => c.key === marker), "fan-b's view receives a later Node");
    expect(received.filter((c) => c.key !== marker).map((c) => c.key), "what fan-b's view received while fan-a's containers started").toEqual([]);
    // what readers see is whole: each node's addresses in status.nodes[]
    const read = statusOf(await fx.store.get('MacvlanNet', MVN)).nodes as MacvlanNodeStatus[];
    expect(read.find((n) => n.name === 'fan-a')?.addresses).toEqual(after.addresses);
    expect(read.find((n) => n.name === 'fan-b')?.addresses?.length).toBeGreaterThan(0);
    await fx.expectClean();
  }, 120_000);
});

describe('a status key written whole by a controller from before the split (agents are upgraded first)', () => {
  it("gives this node's agent its whole entry from there while its index holds no part", async () => {
    // no controller on this prefix: the key stays as that older controller wrote it
    const store = storeFor(client, uniquePrefix());
    await store.create(obj('MacvlanNet', 'old', { subnet: '10.82.0.0/24', gateway: '10.82.0.1', dockerIPAM: 'xnet' }));
    const whole = { name: 'old-a', parent: 'eth0', shimAddress: '10.82.0.2', addresses: ['10.82.0.10', '10.82.0.11'], ready: true, message: 'ready' };
    await store.writeStatus('MacvlanNet', 'old', { controller: true }, { used: 1, nodes: [whole, { name: 'old-b', parent: 'eth1', addresses: ['10.82.0.12'] }] });
    const v = new NodeView(client, store.keys, 'old-a');
    views.push(v);
    await v.start();
    const m = (await v.list('MacvlanNet')).items.find((o) => o.metadata.name === 'old');
    expect((statusOf(m).nodes as MacvlanNodeStatus[]).find((n) => n.name === 'old-a')).toEqual(whole);
    expect(statusOf(m).used).toBe(1);
  });
});
