// dockerIPAM xnet: `docker run --ip X` on node A while X is node B's pre-claim. Found in a Docker
// user's trial: refused for good ("pre-claimed for the containers of node B") although no
// container used X, and nothing short of deleting Node B got X to A. Now the controller asks B
// for X by name (status.nodes[].giveBack), B's plugin gives it back when no container holds it
// there, and A gets it within its request's bound; one in use on B is refused naming B. A real
// etcd and the real controller; each node's IPAM plugin in process (its book follows the
// MacvlanNet's status and writes its report as the agent's does: pkg/agent/ipam-host.ts).
import { afterAll, describe, expect, it } from 'vitest';
import type { MacvlanNet } from '../../pkg/api/index.js';
import { macvlanNodeStatus } from '../../pkg/agent/desired.js';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { askedBackFrom, otherHolderIn } from '../../pkg/dockeripam/other-nodes.js';
import type { XnetIpamError } from '../../pkg/dockeripam/errors.js';
import { monotonicMs } from '../../pkg/runtime/clock.js';
import { createLogger } from '../../pkg/log.js';
import { eventually, obj, statusOf } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';

// No cooldown before a released address is a NIC's (--address-cooldown 0): the case where a NIC
// may pick an address given back the moment it is free (as under a controller that took over
// after the release: the cooldown is kept in memory). Pre-claims have none anyway.
const fx = useMacvlanParts({ addressCooldownMs: 0 });
const log = createLogger('agent');
log.level = 'error';
/** the plugin's bound on a request (NodeIpamOptions.waitMs, its default) */
const WAIT_MS = 20_000;
/** 16 addresses: two shims, seven at hand for each of two nodes (their share) */
const spec = (third: number) => ({ subnet: `198.19.${third}.0/24`, ipRange: `198.19.${third}.16/28`, dockerIPAM: 'xnet', hostShim: true });

interface PluginOptions {
  waitMs?: number;
  /** an agent from before status.nodes[].giveBack: it never reads the field */
  ignoresGiveBack?: boolean;
}

/** A node's IPAM plugin in process: its book takes the node's part as the agent's informer hands it over. */
class Plugin {
  readonly book: AddressBook;
  readonly ipam: NodeIpam;
  private writes = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  /** the MacvlanNet's status as last read, what the agent's cache holds */
  private status: unknown;
  /** the agent reads the MacvlanNet's status late (its informer behind): nothing new is taken in */
  paused = false;
  /** its agent has started: its report about itself and its first report on the MacvlanNet are written */
  readonly started: Promise<void>;

  constructor(readonly mvn: string, readonly node: string, o: PluginOptions = {}) {
    // every change of the book is reported, in order, the latest report each time
    this.book = new AddressBook(new MemoryJournal(), (mvn) => {
      this.writes = this.writes.then(() => fx.report(mvn, node, this.book.report(mvn))).catch(() => undefined);
    });
    // its agent beats as it starts (a node whose agent never reported gets no pre-claims), then
    // reports its book, empty yet, as the agent's macvlan pass does before any pre-claim comes
    // (pkg/agent/reconcilers/macvlan.ts): from then on what it holds counts as idle on it in the
    // other nodes' fair shares, not as nothing (pkg/controller/macvlan-fair.ts)
    this.started = fx.report(mvn, node, this.book.report(mvn));
    this.writes = this.started.catch(() => undefined);
    // as pkg/agent/ipam-host.ts wires them: held for good refused at once, the ask named at the deadline
    this.ipam = new NodeIpam({
      book: this.book, log, waitMs: o.waitMs ?? WAIT_MS,
      otherHolder: (_m, ip) => otherHolderIn(this.status, node, ip, false),
      askedBack: (_m, ip) => askedBackFrom(this.status, node, ip),
    });
    this.timer = setInterval(() => void this.follow(o.ignoresGiveBack).catch(() => undefined), 50);
  }

  private async follow(ignoresGiveBack?: boolean): Promise<void> {
    if (this.paused) return;
    const m = (await fx.store.get('MacvlanNet', this.mvn)) as MacvlanNet | undefined;
    const ns = m && macvlanNodeStatus(m, this.node);
    if (!m || !ns || ns.problem) return;
    this.status = m.status;
    this.book.setPool(this.mvn, ns.addresses ?? [], { subnet: m.spec.subnet }, ns.maxFree, ns.refused, ignoresGiveBack ? undefined : ns.giveBack);
  }

  /** A docker run's RequestAddress (with --ip when `ip` is given): the address, or the refusal; and how long it took. */
  async request(ip?: string): Promise<{ ip?: string; error?: XnetIpamError; ms: number }> {
    const t0 = monotonicMs();
    const r = await this.ipam.requestAddress({ PoolID: this.mvn, ...(ip ? { Address: ip } : {}) })
      .then((a) => ({ ip: a.split('/')[0] }), (error: XnetIpamError) => ({ error }));
    return { ...r, ms: monotonicMs() - t0 };
  }

  async stop(): Promise<void> { clearInterval(this.timer); await this.ipam.close(); await this.writes; }
}

const plugins: Plugin[] = [];
afterAll(async () => { await Promise.all(plugins.map((p) => p.stop())); });

/**
 * MacvlanNet `mvn` on the nodes, a plugin on each, once each has `atHand` free addresses. The
 * agents start one after the other, each once the one before holds its share: a node that holds
 * pre-claims and has not reported yet counts as holding none idle, so a node starting then got
 * a half of what was free (3), and its refill stopped at 5 once the other reported (not below
 * LOW_WATER 4). As real agents do, each reports as it starts, before any pre-claim is its.
 */
async function segment(mvn: string, third: number, nodes: Array<[string, PluginOptions?]>, atHand = 7): Promise<Plugin[]> {
  await fx.segment(mvn, spec(third), mvn, nodes.map(([n]) => n));
  const ps: Plugin[] = [];
  for (const [n, o] of nodes) {
    const p = new Plugin(mvn, n, o);
    plugins.push(p);
    ps.push(p);
    await p.started;
    await eventually(async () => p.book.free(mvn).length === atHand, `${atHand} at hand on ${n}`);
  }
  await eventually(async () => ps.every((p) => p.book.free(mvn).length === atHand), `${atHand} at hand on each node`);
  return ps;
}

const nicAllocated = async (name: string) => statusOf(await fx.store.get('ContainerNic', name)).conditions?.find((c) => c.type === 'Allocated');

async function served(p: Plugin, ip?: string): Promise<string> {
  const r = await p.request(ip);
  expect(r.error?.message ?? 'served').toBe('served');
  if (ip) expect(r.ip).toBe(ip);
  // within the request's bound, with room to spare: not a grant that came by luck at the edge
  expect(r.ms).toBeLessThan(WAIT_MS / 2);
  return r.ip!;
}

describe('docker run --ip of another node\'s pre-claim', () => {
  it('gets an idle one: the holder is asked for it back, gives it back, and the asker is granted it', async () => {
    const mvn = 'gb-idle';
    const [a, b] = await segment(mvn, 205, [['gb-1'], ['gb-2']]);
    // the asker comes before the holder in name order, then after it
    for (const [asker, holder] of [[a, b], [b, a]]) {
      const x = holder.book.free(mvn).at(-1)!;
      expect((await fx.claimed(mvn)).get(x)).toMatchObject({ role: 'node-pool', node: holder.node });
      await served(asker, x);
      // the claim in etcd is the asker's now, and the holder no longer has it at hand
      expect((await fx.claimed(mvn)).get(x)).toMatchObject({ role: 'node-pool', node: asker.node });
      expect(asker.book.assigned(mvn).map((e) => e.ip)).toContain(x);
      await eventually(async () => !holder.book.inPool(mvn, x), `${x} gone from ${holder.node}'s pool`);
      expect(holder.book.free(mvn)).not.toContain(x);
      // nothing is asked back any more
      await eventually(async () => (await fx.parts(mvn)).every((p) => !p.giveBack), 'no giveBack left');
    }
    await fx.expectClean();
  }, 90_000);

  it('refuses one a container on the holder uses, naming the holder', async () => {
    const mvn = 'gb-used';
    const [a, b] = await segment(mvn, 206, [['gu-1'], ['gu-2']]);
    const x = b.book.free(mvn).at(-1)!;
    await served(b, x);
    const refused = await a.request(x);
    expect(refused.error?.reason).toBe('AddressInUse');
    expect(refused.error?.message).toBe(`${x} on MacvlanNet ${mvn} is in use by a container on node "gu-2" (running, or stopped and keeping its address)`);
    // once the controller had looked, not at the request's bound
    expect(refused.ms).toBeLessThan(WAIT_MS / 2);
    // the request is over: no longer asked, no longer refused (a refusal already there when a
    // request comes counts only once the controller has looked again: pkg/dockeripam/requests.ts)
    await eventually(async () => !(await fx.partOf(mvn, 'gu-1'))?.refusedRequests, 'the refusal gone');
    // a stopped container keeps it (once the agent's sync learnt which container it is): refused the same
    b.book.identify(mvn, x, 'c0ffee0123456789', 'web');
    await b.ipam.releaseAddress(mvn, `${x}/24`);
    expect(b.book.isKept(mvn, x)).toBe(true);
    const kept = await a.request(x);
    expect(kept.error?.message).toBe(`${x} on MacvlanNet ${mvn} is in use by a container on node "gu-2" (running, or stopped and keeping its address)`);
    expect((await fx.claimed(mvn)).get(x)).toMatchObject({ role: 'node-pool', node: 'gu-2' });
    expect(b.book.entry(mvn, x)).toBeDefined();
    await fx.expectClean();
  }, 90_000);

  it('refuses at once one held by a node whose agent does not report, naming it: it cannot give it back', async () => {
    const mvn = 'gb-silent';
    await fx.segment(mvn, spec(207), mvn, ['gs-1', 'gs-2']);
    // gs-2's agent beats but never reports on the MacvlanNet: the controller pre-claims for it
    // all the same, and never hears back
    await fx.beat(['gs-2']);
    const [a] = [new Plugin(mvn, 'gs-1')];
    plugins.push(a);
    await eventually(async () => a.book.free(mvn).length > 0 && !!(await fx.partOf(mvn, 'gs-2'))?.addresses?.length, 'addresses for both');
    const x = (await fx.partOf(mvn, 'gs-2'))!.addresses!.at(-1)!;
    const refused = await a.request(x);
    expect(refused.error?.message).toBe(`${x} on MacvlanNet ${mvn} is pre-claimed for the containers of node "gs-2", whose agent does not report: it cannot give it back`);
    expect(refused.ms).toBeLessThan(WAIT_MS / 2);
    expect((await fx.parts(mvn)).find((p) => p.name === 'gs-2')).not.toHaveProperty('giveBack');
  }, 90_000);

  it('fails at its deadline naming the holder when the holder\'s agent ignores the ask (older than giveBack)', async () => {
    const mvn = 'gb-old';
    const waitMs = 3000;
    const [a, b] = await segment(mvn, 208, [['go-1', { waitMs }], ['go-2', { ignoresGiveBack: true }]]);
    const x = b.book.free(mvn).at(-1)!;
    const r = await a.request(x);
    expect(r.error?.message).toBe(`${x} on MacvlanNet ${mvn} was not granted to this node (an idle pre-claim of node go-2, asked back for this node: `
      + `it was not given back within ${waitMs} ms (is that node's agent older than status.nodes[].giveBack?))`);
    expect(r.ms).toBeGreaterThanOrEqual(waitMs);
    // the request is over: nothing is asked back any more, and go-2 still holds it
    await eventually(async () => !(await fx.partOf(mvn, 'go-2'))?.giveBack, 'no giveBack left');
    expect((await fx.claimed(mvn)).get(x)).toMatchObject({ role: 'node-pool', node: 'go-2' });
    expect(b.book.free(mvn)).toContain(x);
  }, 90_000);

  // Found in review: between the round that releases X (given back for A) and the next, which
  // grants it, X is free in etcd, and a ContainerNic picking an address was given it: A's
  // request was refused although X had been freed for it. X is reserved for A while A asks.
  it('keeps an address given back for the asker from a ContainerNic picking one: the asker gets it, the NIC another', async () => {
    const mvn = 'gb-nic';
    const [a, b] = await segment(mvn, 209, [['gn-1', { waitMs: 60_000 }], ['gn-2']]);
    // the pool is full (two shims, seven at hand each); x is gn-2's highest
    const x = b.book.free(mvn).at(-1)!;
    // the agents read the MacvlanNet's status late: what the controller asks is not answered yet
    a.paused = b.paused = true;
    // a NIC finds no free address and waits: the release of x wakes it, before the round that grants x
    await fx.store.applyAll([obj('ContainerNic', 'gn-nic', { node: 'gn-1', container: 'gn-nic', ifName: 'mv0', network: { macvlanNet: mvn } })]);
    await eventually(async () => (await nicAllocated('gn-nic'))?.reason === 'PoolExhausted', 'the NIC waits for an address');
    const asking = a.request(x);
    await eventually(async () => (await fx.partOf(mvn, 'gn-2'))?.giveBack?.includes(x), `${x} asked back of gn-2`);
    // gn-2 reads the ask and gives x back (its only free address asked for: maxFree asks the same one)
    b.paused = false;
    const taken = await eventually(async () => { const c = (await fx.claimed(mvn)).get(x); return c && c.node !== 'gn-2' && c; }, `${x} claimed again`);
    // what docker run on gn-1 sees once its agent reads the status again: x, not a refusal
    a.paused = false;
    const r = await asking;
    expect(r.error?.message ?? 'served').toBe('served');
    expect(r.ip).toBe(x);
    expect(taken).toMatchObject({ role: 'node-pool', node: 'gn-1' });
    // the NIC gets another address, one a node gives back for it
    const nicIp = await eventually(async () => { const n = statusOf(await fx.store.get('ContainerNic', 'gn-nic')); return (await nicAllocated('gn-nic'))?.status === 'True' && n.ip as string; }, 'the NIC allocated');
    expect(nicIp).not.toBe(x);
    expect((await fx.claimed(mvn)).get(x)).toMatchObject({ role: 'node-pool', node: 'gn-1' });
    await fx.expectClean();
  }, 90_000);
});
