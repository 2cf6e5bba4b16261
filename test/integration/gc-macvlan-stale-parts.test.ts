// A MacvlanNet's node part (bynode/<node>/status/controller/macvlannets/<name>) left for a node
// the MacvlanNet's status key does not list: a node that left while no controller ran, a
// restored backup, a key written by hand, or a part that does not decode. No reader joins it
// (store/macvlan-parts.ts), and the MacvlanNet's rounds delete only the parts they see of nodes
// they left: the controller's garbage pass deletes it (controller/gc-macvlan-parts.ts), pinned
// to the part and the status key as it read them, and never a part of a node the status lists.
// Real etcd; the real controller with a short garbage period.
import { describe, expect, it } from 'vitest';
import { useMacvlanParts } from './macvlan-parts.js';
import { eventually, obj } from './controller-helpers.js';
import { collectGarbage } from '../../pkg/controller/gc.js';
import { leaderCtx } from './leader-ctx.js';

const fx = useMacvlanParts({ gcIntervalMs: 300 });
const SPEC = { subnet: '10.91.0.0/24', gateway: '10.91.0.1' };

const raw = async (key: string) => (await fx.etcd.client().get(key).string()) ?? undefined;
const put = (key: string, value: string) => fx.etcd.client().put(key).value(value).exec();

/** Waits for a garbage pass that began after now: it deletes an object's copy in the index of a node that has no such object. */
async function gcPass(n: number): Promise<void> {
  const witness = fx.store.keys.indexed(`st-witness-${n}`, fx.store.keys.object('ContainerNic', 'ghost'));
  await put(witness, '{}');
  await eventually(async () => (await raw(witness)) === undefined, 'a garbage pass (the copy of no object deleted)');
}

/** MacvlanNet `mvn` selecting `node`, once the controller lists the node and wrote its part: that part. */
async function listedPart(mvn: string, node: string): Promise<string> {
  await fx.segment(mvn, SPEC, mvn, [node]);
  const key = fx.store.keys.macvlanPart(node, mvn);
  return eventually(async () => (await fx.partOf(mvn, node)) && raw(key), `${node}'s part and its listing`);
}

describe("the garbage pass and a MacvlanNet's parts of nodes its status does not list", () => {
  it('deletes a part of a node not listed, and keeps the part of a node listed', async () => {
    const keys = fx.store.keys;
    const kept = await listedPart('stale', 'st-a');
    const left = keys.macvlanPart('st-gone', 'stale');
    await put(left, JSON.stringify({ name: 'st-gone', addresses: ['10.91.0.9'], ready: true, message: 'ready' }));
    await gcPass(1);
    expect(await raw(left), 'the part of a node not listed, after a garbage pass').toBeUndefined();
    expect(await raw(keys.macvlanPart('st-a', 'stale')), "the listed node's part").toBe(kept);
    expect((await fx.partOf('stale', 'st-a'))?.name).toBe('st-a');
  }, 60_000);

  it('deletes a part that does not decode', async () => {
    await listedPart('junk', 'ju-a');
    // written, it queues the MacvlanNet's round too (events.ts), which sees no part there
    const garbled = fx.store.keys.macvlanPart('ju-b', 'junk');
    await put(garbled, 'not json');
    await gcPass(2);
    expect(await raw(garbled), 'the part that does not decode, after a garbage pass').toBeUndefined();
  }, 60_000);

  // refused by the controller's cache, they were never swept: garbage for good (before: 'pool counts
  // of no MacvlanNet that do not decode, after a garbage pass' was still 'not json')
  it('deletes pool counts and a controller status that do not decode, of no stored object; keeps those of one stored', async () => {
    const keys = fx.store.keys;
    await listedPart('counted', 'co-a');
    const gonePool = keys.macvlanPool('co-gone');
    const goneStatus = keys.status('ClusterNetwork', 'co-gone', { controller: true });
    const storedPool = keys.macvlanPool('counted');
    await put(gonePool, 'not json');
    await put(goneStatus, '{"conditions": 7}');
    await put(storedPool, 'not json');
    await gcPass(10);
    expect(await raw(gonePool), 'pool counts of no MacvlanNet that do not decode, after a garbage pass').toBeUndefined();
    expect(await raw(goneStatus), 'a controller status of no ClusterNetwork that does not decode, after a garbage pass').toBeUndefined();
    // the MacvlanNet's round may write its counts over the garbled ones: there either way
    expect(await raw(storedPool), "the stored MacvlanNet's pool counts").toBeDefined();
  }, 60_000);

  it('never deletes a part whose node was listed after the pass read the status key, nor one of a node selected', async () => {
    const keys = fx.store.keys;
    const client = fx.etcd.client();
    await fx.stopController();
    // no nodeSelector: every Node is selected
    await fx.store.applyAll([obj('MacvlanNet', 'race', SPEC), obj('Node', 'race-s', { interface: 'eth0' })]);
    const selected = keys.macvlanPart('race-s', 'race');
    const selectedValue = JSON.stringify({ name: 'race-s', ready: false, message: 'waiting' });
    await put(selected, selectedValue);
    const part = keys.macvlanPart('race-n', 'race');
    const status = keys.status('MacvlanNet', 'race', { controller: true });
    const value = JSON.stringify({ name: 'race-n', addresses: ['10.91.0.20'], ready: true, message: 'ready' });
    await put(status, JSON.stringify({ observedGeneration: 1, nodes: [] }));
    await put(part, value);
    const ctx = await leaderCtx(client, fx.prefix);
    // the pass reads the part unlisted; a round lists its node before the pass commits
    ctx.model.cache.hold();
    await put(status, JSON.stringify({ observedGeneration: 1, nodes: [{ name: 'race-n' }] }));
    await collectGarbage(ctx);
    expect(await raw(part), 'the part listed meanwhile').toBe(value);
    // with the listing read, the next pass keeps it too
    ctx.model.cache.release();
    await collectGarbage(ctx);
    expect(await raw(part), 'the listed part, after a pass that read its listing').toBe(value);
    expect(await raw(selected), 'the part of a node selected, not listed').toBe(selectedValue);
  }, 60_000);

  it('never deletes the part of a node labelled into the selector after the pass read its Node', async () => {
    const keys = fx.store.keys;
    await fx.stopController();
    await fx.store.applyAll([obj('MacvlanNet', 'relab', { ...SPEC, hostShim: false, nodeSelector: { matchLabels: { relab: 'yes' } } }), obj('Node', 'rl-x', { interface: 'eth0' })]);
    await put(keys.status('MacvlanNet', 'relab', { controller: true }), JSON.stringify({ observedGeneration: 1, nodes: [] }));
    // what a round writes for a selected node (no shim) whose agent has not reported: a round
    // that lists the node finds it there, equal, and writes the status key alone (no pin on the part)
    const part = keys.macvlanPart('rl-x', 'relab');
    const value = JSON.stringify({ name: 'rl-x', parent: 'eth0', addresses: [], ready: false, message: "waiting for the node's agent" });
    await put(part, value);
    const ctx = await leaderCtx(fx.etcd.client(), fx.prefix);
    // the pass reads the Node unlabelled; it is labelled (and a round may list it) before the pass commits
    ctx.model.cache.hold();
    await fx.join('relab', ['rl-x']);
    await collectGarbage(ctx);
    ctx.model.cache.release();
    expect(await raw(part), 'the part of a node labelled before the pass committed').toBe(value);
    // the round that lists the node finds its part as it plans it and writes the status key alone:
    // a part the pass took would have been listed and never joined
    const revision = async () => (await fx.etcd.client().get(part).exec()).kvs[0]?.mod_revision;
    const before = await revision();
    await fx.startController();
    await eventually(async () => (await fx.partOf('relab', 'rl-x'))?.message === "waiting for the node's agent", "rl-x listed, its part joined");
    expect(await revision(), 'the part, after the round that listed its node').toBe(before);
  }, 60_000);

  it("leaves a listed node's part that does not decode to the rounds, also one of a MacvlanNet that does not decode", async () => {
    const keys = fx.store.keys;
    await fx.stopController();
    await fx.store.applyAll([obj('MacvlanNet', 'lgarb', SPEC), obj('MacvlanNet', 'mgarb', SPEC)]);
    // the status lists lg-a: its agent joins the last part it could read, until a round writes it over
    for (const m of ['lgarb', 'mgarb']) await put(keys.status('MacvlanNet', m, { controller: true }), JSON.stringify({ observedGeneration: 1, nodes: [{ name: 'lg-a' }] }));
    const listed = keys.macvlanPart('lg-a', 'lgarb');
    await put(listed, 'not json');
    // a MacvlanNet that does not decode (a later xctl's) is not gone: no round writes its parts, its agents keep them
    const ofUnreadable = keys.macvlanPart('lg-a', 'mgarb');
    await put(ofUnreadable, 'not json');
    await put(keys.object('MacvlanNet', 'mgarb'), '{"kind":"MacvlanNet"}');
    // a witness that the pass ran: a part of a node neither lists
    const unlisted = keys.macvlanPart('lg-b', 'mgarb');
    await put(unlisted, 'not json');
    const ctx = await leaderCtx(fx.etcd.client(), fx.prefix);
    await collectGarbage(ctx);
    expect(await raw(unlisted), 'the part of a node not listed that does not decode').toBeUndefined();
    expect(await raw(listed), "the listed node's part that does not decode").toBe('not json');
    expect(await raw(ofUnreadable), "a listed node's part of a MacvlanNet that does not decode").toBe('not json');
  }, 60_000);
});
