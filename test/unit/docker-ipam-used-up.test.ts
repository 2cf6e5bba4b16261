// dockerIPAM xnet: a request without --ip on a pool used up everywhere (every address held, none
// idle on any node) is refused at once with the controller's word (status.poolUsedUp, for the
// parts marked status.nodes[].usedUp; from an older controller, status.nodes[].poolUsedUp), not
// after its 20 s; the word follows the staleness rule of a refused --ip. Pure: the controller's
// rule, and the plugin fed the node's part as the agent reads it.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type MacvlanNet } from '../../pkg/api/index.js';
import { macvlanNodeStatus } from '../../pkg/agent/desired.js';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { poolUsedUp } from '../../pkg/dockeripam/used-up.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('test');
log.level = 'error';
const WORD = 'all 8 addresses of MacvlanNet "mv"\'s range (10.9.0.8/29 minus exclude and gateway) are taken, held by 2 host shims, 6 pre-claimed '
  + 'for the nodes\' containers (all in use), and none is idle on any node to give back; free one (...) or widen spec.ipRange';

/** The MacvlanNet as the agent reads it, this node's part as given, `top` the rest of its status. */
const mvn = (part: Record<string, unknown>, top: Record<string, unknown> = {}): MacvlanNet => ({
  apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'mv', generation: 1 },
  spec: { subnet: '10.9.0.0/24', ipRange: '10.9.0.8/29', mode: 'bridge', promiscuous: true, hostShim: true, blockPrefix: 28, dockerIPAM: 'xnet', parent: 'eth0' },
  status: { ...top, nodes: [{ name: 'host-1', addresses: ['10.9.0.10'], ...part }] },
});
/** The word as a controller writes it now: once in the MacvlanNet's status, the asking part marked. */
const USED_UP = [{ usedUp: true }, { poolUsedUp: WORD }] as const;
/** ...and as a controller before that wrote it: the reason in the part. */
const USED_UP_BEFORE = [{ poolUsedUp: WORD }] as const;

/** A plugin whose node holds 10.9.0.10, in use; `part(extra)` hands it the node's part as the agent does. */
function plugin(waitMs: number, gone?: (container: string) => Promise<boolean>) {
  const book = new AddressBook(new MemoryJournal(), () => undefined);
  const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs, gone });
  const part = (extra: Record<string, unknown> = {}, top: Record<string, unknown> = {}) => {
    const ns = macvlanNodeStatus(mvn(extra, top), 'host-1')!;
    book.setPool('mv', ns.addresses ?? [], { subnet: '10.9.0.0/24' }, ns.maxFree, ns.refused);
  };
  part();
  book.assign('mv', '10.9.0.10');
  return { book, ipam, part };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('the controller\'s rule: a pool used up everywhere', () => {
  it('holds only with nothing free, nothing being freed and nothing idle on any node', () => {
    expect(poolUsedUp({ free: 0, freeing: false, idle: [0, 0, 0] })).toBe(true);
    expect(poolUsedUp({ free: 1, freeing: false, idle: [0, 0] })).toBe(false);
    // a node returns addresses in this round: they are free in the next
    expect(poolUsedUp({ free: 0, freeing: true, idle: [0, 0] })).toBe(false);
    // one idle on another node: a rebalance may bring it (or it stays at its fair share)
    expect(poolUsedUp({ free: 0, freeing: false, idle: [0, 1] })).toBe(false);
    // free ones only cooling down after their release (--address-cooldown): they come back by themselves
    expect(poolUsedUp({ free: 0, cooling: true, freeing: false, idle: [0, 0] })).toBe(false);
  });
});

describe('xnet IPAM plugin on a pool used up everywhere', () => {
  it.each([['now', USED_UP], ['by a controller before status.poolUsedUp', USED_UP_BEFORE]] as const)('refuses a request with none at hand at once when the controller says the pool is used up (%s), naming what this node keeps for stopped containers', async (_, word) => {
    // a long bound: without the controller's word the answer came only once it was over
    const { book, ipam, part } = plugin(30_000);
    book.identify('mv', '10.9.0.10', 'c1', 'web');
    await ipam.releaseAddress('mv', '10.9.0.10/24'); // web stopped: its address is kept for it
    const asked = ipam.requestAddress({ PoolID: 'mv' });
    await tick();
    expect(book.report('mv').want).toBe(1);
    const t0 = Date.now();
    part(...word);
    await expect(asked).rejects.toThrow(`MacvlanNet mv is used up (no free address for this container, none to come): ${WORD}; `
      + 'kept on this node for stopped containers: 10.9.0.10 (web)');
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(book.report('mv').want).toBe(0);
  });

  it('waits, not refused, while a container this node keeps an address for is gone already (docker rm, then run at once)', async () => {
    const removed = new Set<string>();
    const { book, ipam, part } = plugin(30_000, async (id) => removed.has(id));
    book.identify('mv', '10.9.0.10', 'c1', 'web');
    await ipam.releaseAddress('mv', '10.9.0.10/24'); // web stopped: kept for it
    removed.add('c1'); // docker rm web: the agent's sync has not freed it yet
    let over = false;
    const asked = ipam.requestAddress({ PoolID: 'mv' });
    asked.catch(() => undefined).finally(() => { over = true; });
    await tick();
    part(...USED_UP);
    await tick();
    expect(over, 'refused while the address it waits for is about to be freed').toBe(false);
    // the agent's sync on Docker's destroy event: the address is free for this request
    book.drop('mv', '10.9.0.10');
    part();
    expect(await asked).toBe('10.9.0.10/24');
  });

  it('still waits while the controller does not say so (a rebalance may serve it), and takes what comes', async () => {
    const { ipam, part } = plugin(30_000);
    const asked = ipam.requestAddress({ PoolID: 'mv' });
    await tick();
    part({ maxFree: 1 }); // another node is asked to give back
    await tick();
    part({ addresses: ['10.9.0.10', '10.9.0.11'] });
    expect(await asked).toBe('10.9.0.11/24');
  });

  it('counts a word already there when the request comes only once the controller has looked again, or gives it as the reason at the deadline', async () => {
    const { ipam, part } = plugin(30_000);
    part(...USED_UP); // the last request's: a container may have gone since
    let over = false;
    const asked = ipam.requestAddress({ PoolID: 'mv' });
    asked.catch(() => undefined).finally(() => { over = true; });
    await tick();
    expect(over).toBe(false);
    part(); // the controller looked again: the word goes...
    await tick();
    part(...USED_UP); // ...and comes back: it counts
    await expect(asked).rejects.toThrow(/^MacvlanNet mv is used up/);
    const late = plugin(300);
    late.part(...USED_UP);
    await expect(late.ipam.requestAddress({ PoolID: 'mv' })).rejects.toThrow(`MacvlanNet mv is used up (no free address for this container, none to come): ${WORD}`);
  });

  it('reads the word from its part: a string within the bound, anything else is none', () => {
    expect(macvlanNodeStatus(mvn({ poolUsedUp: WORD }), 'host-1')?.refused?.size).toBe(1);
    for (const bad of [42, '', 'x'.repeat(513), null]) expect(macvlanNodeStatus(mvn({ poolUsedUp: bad }), 'host-1')?.refused).toBeUndefined();
  });

  it('reads the MacvlanNet\'s word only for a part marked usedUp, and the same sentence either way', () => {
    const word = (part: Record<string, unknown>, top: Record<string, unknown> = {}) => macvlanNodeStatus(mvn(part, top), 'host-1')?.refused?.get('*');
    expect(word(...USED_UP)).toBe(WORD);
    expect(word(...USED_UP)).toBe(word(...USED_UP_BEFORE));
    // another node asks, not this one: the word is not for it
    expect(word({}, { poolUsedUp: WORD })).toBeUndefined();
    expect(word({ usedUp: false }, { poolUsedUp: WORD })).toBeUndefined();
    // marked, with no word that can be read: none (the request waits, as before the word)
    for (const bad of [undefined, 42, '', 'x'.repeat(513)]) expect(word({ usedUp: true }, { poolUsedUp: bad })).toBeUndefined();
  });
});
