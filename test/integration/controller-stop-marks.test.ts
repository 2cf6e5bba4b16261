// A graceful stop of the leading controller (Controller.stop) keeps the release marks of the
// releases its workers are still committing (release-marks.ts; docs/controller.md, "address
// cooldown"): it takes no more work, lets the commits in flight settle (bounded), writes the marks
// they noted, and only then resigns. Before, it wrote the marks queued, resigned, and only then
// waited for its workers: a release a worker committed meanwhile was noted after the flush, its
// mark refused by the guard of the term that had resigned, and lost (only a standby that saw the
// release could still mark it; these cases run none). Red on the old code, the first case in 11
// runs of 11: 10 "released addresses with no mark in etcd after the stop: expected
// [ '010.090.000.002', …(4) ]", 1 "claims left in etcd after the stop: the release was committed:
// expected 5" (the revoke applied before the release); the burst in 10 of 12: 9 with marks missing
// (e.g. "(448 of 600 released, 384 of them after stop() was called): expected
// [ '010.091.005.086', …(63) ]"), 1 "the case raced nothing"; 2 green. Fixed: green in 11 of 11.
// The wait for the commits in flight is bounded (3 s): a commit not answered does not keep the
// leader from resigning (the third case, red with the bound taken out).
// etcd runs with TLS and auth, and the controller as the controller's identity.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { Keys } from '../../pkg/store/keys.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { obj, eventually, startController, storeFor } from './controller-helpers.js';
import { throughTxnHook, until, type TxnRequest } from './helpers.js';

const PREFIX = '/xnet';
/** far longer than a case: every mark written is still in etcd when the case reads them */
const COOLDOWN_MS = 300_000;

let etcd: TestEtcd;
let root: Etcd3;
/** the cases' controllers not stopped yet (a case that failed before its stop) */
const running = new Set<Controller>();

beforeAll(async () => { etcd = await startEtcd({ auth: true }); root = etcd.client(); });
afterAll(async () => {
  try { for (const c of running) await c.stop(); } finally { await etcd?.stop(); }
});

/**
 * A leading controller (the controller's identity, the only one: no standby) and `nodes` x
 * `perNode` NICs of ClusterNetwork `net` (10.<90 + site>.0.0/16) with their addresses: each case
 * its own network and nodes, under the one prefix the controller's role may write.
 */
async function leaderWithNics(net: string, site: number, nodes: number, perNode: number) {
  const auth = etcd.auth!;
  const client = auth.clientAs(auth.ids.controller);
  const store = storeFor(auth.clientAs(auth.ids.admin), PREFIX);
  // a lease of 5 s (not the helpers' 2): a loaded machine's pause must not hand the lead over mid-case
  const c = await startController(client, PREFIX, { id: `stop-${net}`, addressCooldownMs: COOLDOWN_MS, leaseTtlSeconds: 5 });
  running.add(c);
  const stop = () => { running.delete(c); return c.stop(); };
  const names: string[] = [];
  const objs = [obj('ClusterNetwork', net, { cidr: `10.${90 + site}.0.0/16`, hostPrefix: 24 })];
  for (let n = 0; n < nodes; n++) {
    const node = `${net}-h${n}`;
    objs.push(obj('Node', node, { address: `198.18.${site}.${n + 1}` }));
    for (let i = 0; i < perNode; i++) {
      names.push(`${node}-n${i}`);
      objs.push(obj('ContainerNic', `${node}-n${i}`, { node, container: `c${i}`, ifName: 'eth1', network: { clusterNetwork: net } }));
    }
  }
  await store.applyAll(objs);
  const ipam = new IpamKeys(PREFIX);
  const claims = async () => new Set((await root.getAll().prefix(ipam.space('clusternetworks', net, 'addresses')).keys()).map((k) => k.slice(k.lastIndexOf('/') + 1)));
  const held = await eventually(async () => { const s = await claims(); return s.size === names.length ? s : undefined; }, `the ${names.length} NICs' address claims`, 60_000);
  const marks = async () => new Set((await root.getAll().prefix(`${ipam.pool('clusternetworks', net)}released/`).keys()).map((k) => k.slice(k.lastIndexOf('/') + 1)));
  expect((await marks()).size, 'no release mark before the NICs are deleted').toBe(0);
  expect((await root.get(new Keys(PREFIX).election()).exec()).kvs, 'the controller leads: its election key').toHaveLength(1);
  return { stop, client, store, names, held, claims, marks, addresses: ipam.space('clusternetworks', net, 'addresses') };
}

const releasesClaim = (space: string) => (req: TxnRequest) => !!req.success?.some((op) => op.request_delete_range?.key?.toString().startsWith(space));

type Leader = Awaited<ReturnType<typeof leaderWithNics>>;

/**
 * Deletes the NICs and runs `body` once the controller's commit of their release is planned and
 * held here, unsent, until `gate` resolves (as a commit etcd is slow to take); with it still
 * held, the claims are all in etcd.
 */
async function withReleaseHeld<T>(x: Leader, gate: Promise<unknown>, body: () => Promise<T>): Promise<T> {
  let held = false;
  return throughTxnHook(x.client, async (req, send) => {
    if (!releasesClaim(x.addresses)(req)) return send(req);
    held = true;
    await gate;
    return send(req);
  }, async () => {
    await x.store.deleteAll(x.names.map((name) => ({ kind: 'ContainerNic' as const, name })));
    await until(() => held, 'the release of the deleted NICs\' addresses planned and held');
    expect((await x.claims()).size, 'claims in etcd while the release is held').toBe(x.held.size);
    return body();
  });
}

describe('a graceful stop and the release marks of commits in flight', () => {
  // the commit of a release sent as stop() begins (held by this test until then): etcd applies it
  // before the controller resigns, and the controller hears of it (the answer, its watch) after
  // the marks it had queued were written
  it('a release committed as the stop begins is marked before the controller resigns', async () => {
    const x = await leaderWithNics('held', 0, 1, 5);
    let open!: () => void;
    const gate = new Promise<void>((r) => { open = r; });
    await withReleaseHeld(x, gate, async () => {
      const stopping = x.stop();
      open();
      await stopping;
    });
    const left = await x.claims();
    expect(left.size, 'claims left in etcd after the stop: the release was committed').toBe(0);
    const marks = await x.marks();
    const missing = [...x.held].filter((a) => !marks.has(a));
    expect(missing, 'released addresses with no mark in etcd after the stop').toEqual([]);
  }, 90_000);

  // the wait is bounded: a commit etcd does not answer (held here until the controller resigned,
  // 20 s at most) does not keep the leader from resigning (red with the wait unbounded: the
  // commit was answered only at the 20 s, the controller still leading)
  it('a commit that is not answered does not keep the stop from resigning', async () => {
    const x = await leaderWithNics('hung', 2, 1, 3);
    let open!: (why: string) => void;
    const gate = new Promise<string>((r) => { open = r; });
    const electionKey = new Keys(PREFIX).election();
    const why = await withReleaseHeld(x, gate, async () => {
      const stopping = x.stop();
      const resigned = eventually(async () => (await root.get(electionKey).exec()).kvs.length === 0, 'the controller resigned', 20_000);
      const opened = await resigned.then(() => 'the controller resigned', () => 'the commit held 20 s, the controller leading');
      open(opened);
      await stopping;
      return opened;
    });
    expect(why, 'what ended the commit\'s hold').toBe('the controller resigned');
    expect((await x.claims()).size, 'claims left: the commit came after the resign, refused by the guard').toBe(x.held.size);
  }, 90_000);

  // realistic: a burst of releases (every NIC of six nodes deleted at once), stop() called as the
  // first of them lands; whatever the controller released by the end of its stop is marked
  it('a burst of releases in flight when the stop begins: every address released has its mark', async (ctx) => {
    const x = await leaderWithNics('burst', 1, 6, 100);
    const w = await root.watch().prefix(x.addresses).create();
    const firstRelease = new Promise<void>((resolve) => w.on('delete', () => resolve()));
    const deleting = x.store.deleteAll(x.names.map((name) => ({ kind: 'ContainerNic' as const, name })));
    await firstRelease;
    void w.cancel();
    const atStop = (await x.claims()).size;
    await x.stop();
    await deleting;
    const left = await x.claims();
    const released = [...x.held].filter((a) => !left.has(a));
    const marks = await x.marks();
    const missing = released.filter((a) => !marks.has(a));
    const said = `${released.length} of ${x.held.size} released, ${atStop - left.size} of them after stop() was called`;
    expect(missing, `released addresses with no mark in etcd after the stop (${said})`).toEqual([]);
    // the race is the machine's to make: under load every release may land before stop() (seen
    // once in a full run: 64 of 600 released, none after); the held-commit case above is the
    // deterministic one
    if (atStop === left.size) ctx.skip(`no release was committed after stop() was called (${said}): the case raced nothing`);
  }, 120_000);
});
