import { describe, it, expect } from 'vitest';
import { MAX_WANT, planNodePool } from '../../pkg/dockeripam/node-pool.js';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { decodeReport } from '../../pkg/dockeripam/report.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { macvlanUsage } from '../../pkg/ipam/macvlan-usage.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { createLogger } from '../../pkg/log.js';

const ips = (...l: string[]) => new Set(l.map(parseIPv4));
const report = (r: Partial<{ assigned: Array<{ ip: string }>; returned: string[]; external: string[]; requested: string[]; want: number }>) =>
  ({ assigned: [], returned: [], external: [], requested: [], want: 0, ...r });

describe('per-node address pools (controller side)', () => {
  it('refills below the low-water mark, and only then', () => {
    expect(planNodePool(new Set(), undefined).more).toBe(8);
    expect(planNodePool(ips('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'), report({})).more).toBe(0);
    const held = ips('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5');
    expect(planNodePool(held, report({ assigned: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] })).more).toBe(5);
  });

  it('grows on demand by what waiting requests want', () => {
    expect(planNodePool(ips('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'), report({ want: 3 })).more).toBe(6);
  });

  it('counts want against what the node already holds free: the same report again claims nothing more', () => {
    const eleven = ips(...Array.from({ length: 11 }, (_, i) => `10.0.0.${i + 1}`));
    expect(planNodePool(eleven, report({ want: 3 })).more).toBe(0);
    // a node asking for 64 gets them once: with 72 free it is given nothing more
    expect(planNodePool(new Set(), report({ want: 64 })).more).toBe(72);
    const held = new Set(Array.from({ length: 72 }, (_, i) => parseIPv4('10.1.0.0') + i));
    expect(planNodePool(held, report({ want: 64 })).more).toBe(0);
  });

  it('gives a node at most MAX_WANT beyond its usual free addresses, whatever its report wants (it is untrusted)', () => {
    expect(MAX_WANT).toBe(64);
    // want: 4096 took a shared segment's every free address in one round
    expect(planNodePool(new Set(), report({ want: 4096 })).more).toBe(8 + MAX_WANT);
    const held = new Set(Array.from({ length: 8 + MAX_WANT }, (_, i) => parseIPv4('10.1.0.0') + i));
    expect(planNodePool(held, report({ want: 4096 })).more).toBe(0);
  });

  it('releases only what the node returned and does not use; claims what --ip asked for', () => {
    const p = planNodePool(ips('10.0.0.1', '10.0.0.2'), report({ assigned: [{ ip: '10.0.0.2' }], returned: ['10.0.0.1', '10.0.0.2', '10.0.0.9'], requested: ['10.0.0.7', '10.0.0.1'] }));
    expect(p.release).toEqual([parseIPv4('10.0.0.1')]);
    expect(p.requested).toEqual([parseIPv4('10.0.0.7')]);
  });

  it('acts on an address listed twice once (a key twice in one etcd transaction is refused)', () => {
    const p = planNodePool(ips('10.0.0.1', '10.0.0.2'), report({ returned: ['10.0.0.1', '10.0.0.1'], external: ['10.0.0.2', '10.0.0.2'], requested: ['10.0.0.7', '10.0.0.7'] }));
    expect(p).toMatchObject({ release: [parseIPv4('10.0.0.1')], external: [parseIPv4('10.0.0.2')], requested: [parseIPv4('10.0.0.7')] });
  });
});

describe('the agent\'s address book and plugin answers', () => {
  const net = { subnet: '10.9.0.0/24', gateway: '10.9.0.1' };
  const make = (journal = new MemoryJournal()) => {
    const book = new AddressBook(journal, () => undefined);
    const log = createLogger('test'); log.level = 'error';
    // the stopped containers Docker is starting now (their inspect waits: ../../pkg/dockeripam/kept-owner.ts)
    const startingNow = new Set<string>();
    const ipam = new NodeIpam({ book, log, otherHolder: (_m, ip) => (ip === '10.9.0.50' ? 'node host-2' : undefined), waitMs: 50, starting: async (c) => startingNow.has(c) });
    return { book, ipam, journal, startingNow };
  };

  it('hands out distinct pool addresses under concurrent requests and refuses held ones naming the holder', async () => {
    const { book, ipam } = make();
    book.setPool('mv', ['10.9.0.10', '10.9.0.11', '10.9.0.12'], net);
    const got = await Promise.all([1, 2, 3].map(() => ipam.requestAddress({ PoolID: 'mv' })));
    expect(new Set(got).size).toBe(3);
    expect(got.every((a) => a.endsWith('/24'))).toBe(true);
    await expect(ipam.requestAddress({ PoolID: 'mv' })).rejects.toThrow(/no free address/);
    await expect(ipam.requestAddress({ PoolID: 'mv', Address: '10.9.0.50' })).rejects.toThrow('held by node host-2');
    await expect(ipam.requestAddress({ PoolID: 'mv', Address: '10.9.0.10' })).rejects.toThrow(/in use by/);
    expect(await ipam.requestAddress({ PoolID: 'mv', Address: '10.9.0.1', Options: { RequestAddressType: 'com.docker.network.gateway' } })).toBe('10.9.0.1/24');
  });

  // Kept at 1 before, the report asked for good after a failed docker run: the node's part of
  // the MacvlanNet stayed not ready (starving) with no request waiting any more.
  it('asks the controller for more only while a request waits: not once it has failed, nor after a restart', async () => {
    const journal = new MemoryJournal();
    const { book, ipam } = make(journal);
    book.setPool('mv', ['10.9.0.10'], net);
    await ipam.requestAddress({ PoolID: 'mv' });
    const waiting = ipam.requestAddress({ PoolID: 'mv' });
    await new Promise((r) => setTimeout(r, 10));
    expect(book.report('mv').want).toBe(1);
    await expect(waiting).rejects.toThrow(/no free address/);
    expect(book.report('mv').want).toBe(0);
    // a journal written while one waited (the agent killed): the restarted agent's asks for nothing
    journal.save({ version: 1, nets: { mv: { ...journal.load().nets.mv, want: 1 } } });
    expect(new AddressBook(journal, () => undefined).report('mv').want).toBe(0);
  });

  it('refuses a new container at once on a node the MacvlanNet no longer selects (or is being deleted), saying so; a stopped one there still starts on its kept address', async () => {
    const book = new AddressBook(new MemoryJournal(), () => undefined);
    const log = createLogger('test'); log.level = 'error';
    let why: string | undefined;
    // a long wait: before, the node asked the controller for a refill it never sends (the node
    // is no longer selected), and after 20 s said "no free address ... is ipRange used up?"
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, notOnNode: () => why, waitMs: 30_000, starting: async (c) => c === 'c1' && starts });
    let starts = false;
    book.setPool('mv', ['10.9.0.20'], net);
    const a = (await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0];
    book.identify('mv', a, 'c1', 'web');
    await ipam.releaseAddress('mv', `${a}/24`); // docker stop web
    why = 'MacvlanNet mv no longer selects node n1 (nodeSelector rack=a)';
    book.setPool('mv', [a], net); // the controller keeps only what the node's containers use
    await expect(ipam.requestAddress({ PoolID: 'mv', Address: '10.9.0.30' })).rejects.toThrow(why);
    expect(book.report('mv').requested).toEqual([]);
    await expect(ipam.requestAddress({ PoolID: 'mv' })).rejects.toThrow(why); // docker run: not web's address
    starts = true;
    expect(await ipam.requestAddress({ PoolID: 'mv' })).toBe(`${a}/24`); // docker start web
    starts = false;
    await expect(ipam.requestAddress({ PoolID: 'mv' })).rejects.toThrow(why);
    expect(book.report('mv').want).toBe(0); // nothing asked of the controller
  });

  it('refuses an --ip the MacvlanNet never hands out at once, saying why', async () => {
    const book = new AddressBook(new MemoryJournal(), () => undefined);
    const log = createLogger('test'); log.level = 'error';
    const never = (_m: string, ip: string) => (ip === '10.9.0.5' ? '10.9.0.5 is in MacvlanNet "mv"\'s exclude range 10.9.0.0/28' : undefined);
    // a long wait: the old answer came only once it was over ("was not granted to this node")
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, neverHandedOut: never, waitMs: 30_000 });
    book.setPool('mv', ['10.9.0.20'], net);
    await expect(ipam.requestAddress({ PoolID: 'mv', Address: '10.9.0.5' })).rejects.toThrow('10.9.0.5 is in MacvlanNet "mv"\'s exclude range 10.9.0.0/28');
  });

  it('refuses an --ip at once when the controller says why it will not grant it; a refusal already there counts only once renewed, or at the deadline', async () => {
    const book = new AddressBook(new MemoryJournal(), () => undefined);
    const log = createLogger('test'); log.level = 'error';
    // a long wait: without the controller's word the answer came only once it was over
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 30_000 });
    book.setPool('mv', ['10.9.0.20'], net);
    const asked = ipam.requestAddress({ PoolID: 'mv', Address: '10.9.0.60' });
    await new Promise((r) => setTimeout(r, 20));
    expect(book.report('mv').requested).toEqual(['10.9.0.60']);
    const t0 = Date.now();
    book.setPool('mv', ['10.9.0.20'], net, undefined, new Map([['10.9.0.60', 'held by ContainerNic "db-eth1"']]));
    await expect(asked).rejects.toThrow('10.9.0.60 on MacvlanNet mv is held by ContainerNic "db-eth1"');
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(book.report('mv').requested).toEqual([]);
    // asked again while that refusal is still in the status: it may be the last request's,
    // from before the address was freed; so it waits for the controller to look again
    const short = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 300 });
    await expect(short.requestAddress({ PoolID: 'mv', Address: '10.9.0.60' })).rejects.toThrow('10.9.0.60 on MacvlanNet mv was not granted to this node (held by ContainerNic "db-eth1")');
    const again = ipam.requestAddress({ PoolID: 'mv', Address: '10.9.0.60' });
    await new Promise((r) => setTimeout(r, 20));
    book.setPool('mv', ['10.9.0.20'], net); // the controller dropped it (the request went)...
    book.setPool('mv', ['10.9.0.20', '10.9.0.60'], net); // ...and, asked again, granted it
    expect(await again).toBe('10.9.0.60/24');
  });

  it('answers from the journal after a restart, without etcd', async () => {
    const { book, ipam, journal } = make();
    book.setPool('mv', ['10.9.0.10', '10.9.0.11'], net);
    const a = await ipam.requestAddress({ PoolID: 'mv' });
    const again = make(journal);
    expect(again.book.assigned('mv').map((x) => x.ip)).toEqual([a.split('/')[0]]);
    const b = await again.ipam.requestAddress({ PoolID: 'mv' });
    expect(b).not.toBe(a);
    await again.ipam.releaseAddress('mv', a);
    expect(again.book.assigned('mv').map((x) => x.ip)).toEqual([b.split('/')[0]]);
  });

  it('keeps a stopped container\'s address for it: a restart gets it back, a removal frees it', async () => {
    const { book, ipam, startingNow } = make();
    book.setPool('mv', ['10.9.0.10', '10.9.0.11', '10.9.0.12', '10.9.0.13'], net);
    const a = (await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0];
    book.identify('mv', a, 'c1', 'web');
    await ipam.releaseAddress('mv', `${a}/24`); // docker restart web: stop...
    expect(book.free('mv')).not.toContain(a);
    expect(book.holder('mv', a)).toBe('container web (stopped; the address is kept for it)');
    startingNow.add('c1');
    expect(await ipam.requestAddress({ PoolID: 'mv' })).toBe(`${a}/24`); // ...start
    book.identify('mv', a, 'c1', 'web');
    expect(book.homeOf('mv', 'c1', a)).toBeUndefined();
    await ipam.releaseAddress('mv', `${a}/24`); // docker rm -f web: the agent sees it gone
    book.drop('mv', a);
    expect(book.free('mv')).toContain(a);
  });

  it('lends a kept address again only while it is in the node\'s pool: moved out, a restart gets a fresh one and --ip asks the controller', async () => {
    const { book, ipam, startingNow } = make();
    startingNow.add('c1');
    book.setPool('mv', ['10.9.0.10', '10.9.0.11'], net);
    const a = (await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0];
    book.identify('mv', a, 'c1', 'web');
    await ipam.releaseAddress('mv', a); // docker restart web: stop...
    book.setPool('mv', ['10.9.0.11', '10.9.0.12'], net); // the controller no longer has a for this node
    expect(await ipam.requestAddress({ PoolID: 'mv' })).toBe('10.9.0.11/24'); // ...start: not a
    expect(book.holder('mv', a)).toBe('container web (stopped; the address is kept for it)');
    // --ip of it: asked of the controller like any address outside the pool, given once granted
    const pinned = ipam.requestAddress({ PoolID: 'mv', Address: a });
    await new Promise((r) => setTimeout(r, 10));
    expect(book.report('mv').requested).toEqual([a]);
    book.setPool('mv', ['10.9.0.10', '10.9.0.11', '10.9.0.12'], net);
    expect(await pinned).toBe(`${a}/24`);
  });

  // docker run --ip X, an ipRange shrink leaves X out (the node's outsideRange), docker stop:
  // docker start asks for X again and was refused (outside the range)
  it('grants --ip of a kept address an edit left outside the range while it is this node\'s (outsideRange), never otherwise', async () => {
    const book = new AddressBook(new MemoryJournal(), () => undefined);
    const log = createLogger('test'); log.level = 'error';
    let outside: string[] = [];
    const never = (_m: string, ip: string) => `${ip} is outside MacvlanNet "mv"'s ipRange 10.9.0.240/28, the part xnet hands out`;
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, neverHandedOut: never, outsideRange: (_m, ip) => outside.includes(ip), waitMs: 30_000 });
    book.setPool('mv', ['10.9.0.10', '10.9.0.11', '10.9.0.12'], net);
    const [a, b] = [(await ipam.requestAddress({ PoolID: 'mv', Address: '10.9.0.10' })).split('/')[0], (await ipam.requestAddress({ PoolID: 'mv', Address: '10.9.0.11' })).split('/')[0]];
    book.identify('mv', a, 'c1', 'web'); book.identify('mv', b, 'c2', 'db');
    outside = [a, b];
    book.setPool('mv', ['10.9.0.12'], net); // the shrink: a and b now in the node's outsideRange
    await ipam.releaseAddress('mv', `${a}/24`); // docker stop web
    expect(await ipam.requestAddress({ PoolID: 'mv', Address: a })).toBe(`${a}/24`); // docker start web
    // in use by a running container: not its own
    await expect(ipam.requestAddress({ PoolID: 'mv', Address: b })).rejects.toThrow('in use by container db');
    // kept, but the node's claim on it went (e.g. with its deleted Node): outside the range
    await ipam.releaseAddress('mv', `${b}/24`);
    outside = [a];
    await expect(ipam.requestAddress({ PoolID: 'mv', Address: b })).rejects.toThrow(never('mv', b));
  });

  it('several containers restarting at once may swap addresses; each keeps a way home, and --ip takes a kept address', async () => {
    const { book, ipam, startingNow } = make();
    startingNow.add('c1').add('c2');
    book.setPool('mv', ['10.9.0.10', '10.9.0.11', '10.9.0.12'], net);
    const [a, b] = [(await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0], (await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0]];
    book.identify('mv', a, 'c1', 'one'); book.identify('mv', b, 'c2', 'two');
    await ipam.releaseAddress('mv', a); await ipam.releaseAddress('mv', b); // dockerd going down
    const first = (await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0];
    const second = (await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0];
    expect([first, second].sort()).toEqual([a, b].sort());
    // The guess was wrong: one got b, two got a.
    book.identify('mv', b, 'c1', 'one'); book.identify('mv', a, 'c2', 'two');
    expect(book.homeOf('mv', 'c1', b)).toBe(a);
    expect(book.homeOf('mv', 'c2', a)).toBe(b);
    // The agent takes both off the network, then connects each with --ip its own address.
    await ipam.releaseAddress('mv', b); await ipam.releaseAddress('mv', a);
    expect(book.isKept('mv', a) && book.isKept('mv', b)).toBe(true);
    expect(await ipam.requestAddress({ PoolID: 'mv', Address: a })).toBe(`${a}/24`);
    expect(await ipam.requestAddress({ PoolID: 'mv', Address: b })).toBe(`${b}/24`);
    book.identify('mv', a, 'c1', 'one'); book.identify('mv', b, 'c2', 'two');
    expect(book.homeOf('mv', 'c1', a)).toBeUndefined();
    expect(book.free('mv')).toEqual(['10.9.0.12']);
  });

  it('a restarted dockerd restoring its containers gets only addresses of containers it starts again, never one asked for by --ip', async () => {
    const { book, ipam, startingNow } = make();
    book.setPool('mv', ['10.9.0.10', '10.9.0.11', '10.9.0.12', '10.9.0.13', '10.9.0.14', '10.9.0.15'], net);
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push((await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0]);
    const [always, no, unknown, pinned, onFailure] = got;
    const facts: Array<[string, string, { restarts: boolean; pinned: boolean } | undefined]> = [
      [always, 'c1', { restarts: true, pinned: false }], [no, 'c2', { restarts: false, pinned: false }], [unknown, 'c3', undefined],
      [pinned, 'c4', { restarts: true, pinned: true }], [onFailure, 'c5', { restarts: true, pinned: false }],
    ];
    for (const [ip, c, f] of facts) { book.identify('mv', ip, c, c); if (f) book.learn('mv', ip, c, f); }
    ipam.dockerAnswers(true);
    ipam.dockerAnswers(false); // dockerd killed
    await ipam.activate(); // the new dockerd, before its API answers: restoring
    // It releases every address it held (those that restart first here, so most recent is wrong)...
    for (const ip of [always, onFailure, no, pinned, unknown]) await ipam.releaseAddress('mv', ip);
    // ...then starts again those its restart policies say, asking without saying for whom.
    const back = await Promise.all([1, 2, 3].map(async () => (await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0]));
    expect(back.slice(0, 2).sort()).toEqual([always, onFailure].sort());
    expect(back[2]).toBe(unknown); // not learnt yet, released just now: may be one of them
    expect(await ipam.requestAddress({ PoolID: 'mv' })).toBe('10.9.0.15/24'); // a new container
    expect(await ipam.requestAddress({ PoolID: 'mv', Address: pinned })).toBe(`${pinned}/24`);
    expect(book.holder('mv', no)).toBe('container c2 (stopped; the address is kept for it)');
    // Its API answers: restore over, a docker restart gets its own kept address again.
    ipam.dockerAnswers(true);
    book.identify('mv', back[0], 'cx', 'cx');
    await ipam.releaseAddress('mv', back[0]); // kept for the container it was lent from
    startingNow.add(book.entry('mv', back[0])!.container!);
    expect(await ipam.requestAddress({ PoolID: 'mv' })).toBe(`${back[0]}/24`);
  });

  it('docker update makes what was learnt of a container learnt again', () => {
    const { book } = make();
    book.setPool('mv', ['10.9.0.10'], net);
    book.assign('mv', '10.9.0.10');
    book.identify('mv', '10.9.0.10', 'c1', 'web');
    book.learn('mv', '10.9.0.10', 'c1', { restarts: false, pinned: false });
    expect(book.assigned('mv')[0].restarts).toBe(false);
    book.unlearn('c1');
    expect(book.assigned('mv')[0].restarts).toBeUndefined();
  });

  it('reports a container whose Docker name is longer than a report carries: the controller still reads the report and refills the node', async () => {
    const { book, ipam } = make();
    const pool = Array.from({ length: 8 }, (_, i) => `10.9.0.${10 + i}`);
    book.setPool('mv', pool, net);
    const got = await Promise.all(pool.slice(0, 5).map(() => ipam.requestAddress({ PoolID: 'mv' })));
    // Docker takes any length of name: one of 300 characters made the whole report fail to
    // decode, and the controller then saw no address in use and never refilled the node
    const long = `c${'a'.repeat(299)}`;
    got.forEach((a, i) => book.identify('mv', a.split('/')[0], `${i}`.repeat(64), i === 0 ? long : `c${i}`));
    const decoded = decodeReport(JSON.parse(JSON.stringify(book.report('mv'))));
    expect(decoded?.assigned).toHaveLength(5);
    expect(decoded?.assigned[0].name?.startsWith('caaa')).toBe(true);
    // 3 free of 8 is below the low-water mark: the controller claims more for it
    expect(planNodePool(new Set(pool.map(parseIPv4)), decoded).more).toBe(5);
  });

  it('never hands out an address that answered an ARP probe', async () => {
    const book = new AddressBook(new MemoryJournal(), () => undefined);
    const log = createLogger('test'); log.level = 'error';
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe: async (_m, ip) => (ip === '10.9.0.10' ? 'answered' : 'free'), waitMs: 50 });
    book.setPool('mv', ['10.9.0.10', '10.9.0.11'], net);
    expect(await ipam.requestAddress({ PoolID: 'mv' })).toBe('10.9.0.11/24');
    expect(book.report('mv').external).toEqual(['10.9.0.10']);
  });
});

describe('MacvlanNet used/free counts (one formula for status and ipam check)', () => {
  it('counts blocks and single addresses inside the range once (the broadcast address is never counted)', () => {
    const spec = { subnet: '10.9.0.0/24', ipRange: '10.9.0.128/25', gateway: '10.9.0.1' } as never;
    expect(macvlanUsage(spec, [{ cidr: '10.9.0.240/28' }, { ip: '10.9.0.241' }, { ip: '10.9.0.130' }, { ip: '10.9.0.5' }])).toEqual({ allocated: 16, free: 111 });
  });
});
