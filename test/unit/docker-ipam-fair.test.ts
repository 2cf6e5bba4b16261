// Small MacvlanNet pools (dockerIPAM: xnet) shared fairly: the controller caps a node's refill
// at its share of what is free, asks a node holding idle addresses above its share to give
// them back while another has none, and says why a node has none; the agent gives back what it
// holds free above the controller's limit (the lab's `tiny`: a /29 ipRange, three nodes with
// shims, host-1 held all five addresses left and host-2's `docker run` failed after 20 s).
import { describe, it, expect } from 'vitest';
import { planNodePool, idleCount } from '../../pkg/dockeripam/node-pool.js';
import { fairShare, nicLimit, shareCannotBind, rebalanceLimit, starvedMessage, UNCAPPED } from '../../pkg/dockeripam/fair-share.js';
import { surplusOf, HIGH_WATER } from '../../pkg/dockeripam/report.js';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';
import { macvlanNodeStatus } from '../../pkg/agent/desired.js';
import { API_VERSION, type MacvlanNet } from '../../pkg/api/index.js';

const ips = (...l: string[]) => new Set(l.map(parseIPv4));
const report = (r: Partial<{ assigned: Array<{ ip: string }>; returned: string[]; external: string[]; requested: string[]; want: number }>) =>
  ({ assigned: [], returned: [], external: [], requested: [], want: 0, ...r });
const range = (from: string, n: number) => Array.from({ length: n }, (_, i) => formatIPv4(parseIPv4(from) + i));

describe('fair shares of a small pool (controller side)', () => {
  it('shares what is free and idle among the selected nodes, at least one each', () => {
    // tiny: 8 addresses, 3 shims, 5 left, nobody holds any yet
    expect(fairShare(5, [0, 0, 0])).toBe(1);
    // host-1 holds 5 idle, nothing free: still 1 each
    expect(fairShare(0, [5, 0, 0])).toBe(1);
    expect(fairShare(12, [0, 0, 0])).toBe(4);
    expect(fairShare(1, [0, 0, 0])).toBe(1);
  });

  it('limits nothing on a big pool: a share at least as large as any refill is none', () => {
    expect(UNCAPPED).toBe(72);
    expect(fairShare(60_000, [8, 8, 8])).toBeUndefined();
    expect(fairShare(3 * 72, [0, 0, 0])).toBeUndefined();
    expect(fairShare(3 * 72 - 1, [0, 0, 0])).toBe(71);
    // the cheap test the round makes first, without counting or decoding any report
    expect(shareCannotBind(65_534, 2_000, 100)).toBe(true);
    expect(shareCannotBind(8, 3, 3)).toBe(false);
  });

  it('caps a refill so the node holds no more free addresses than its share', () => {
    expect(planNodePool(new Set(), undefined, 1).more).toBe(1);
    expect(planNodePool(new Set(), report({ want: 64 }), 2).more).toBe(2);
    // holds its share already: nothing more, also when asking
    expect(planNodePool(ips('10.0.0.1'), report({ want: 1 }), 1).more).toBe(0);
    // in use does not count against the share: only what is at hand
    expect(planNodePool(ips('10.0.0.1', '10.0.0.2'), report({ assigned: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], want: 1 }), 1).more).toBe(1);
    // no cap: as before
    expect(planNodePool(new Set(), undefined).more).toBe(8);
    // --ip requests are not capped: the user asked for that address
    expect(planNodePool(new Set(), report({ requested: ['10.0.0.7', '10.0.0.8'] }), 1).requested.length).toBe(2);
  });

  it('counts a node\'s idle addresses: held, not in use, not returned, not external', () => {
    expect(idleCount(ips('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'), report({ assigned: [{ ip: '10.0.0.1' }], returned: ['10.0.0.2'], external: ['10.0.0.3', '10.0.0.9'] }))).toBe(1);
    expect(idleCount(ips('10.0.0.1', '10.0.0.2'), undefined)).toBe(2);
  });

  it('asks for addresses back only while a node starves and another holds idle ones above its share', () => {
    const need = (name: string, idle: number, starving = false) => ({ name, idle, starving });
    expect(rebalanceLimit([need('host-1', 5), need('host-2', 0, true), need('host-3', 0, true)], 1)).toBe(1);
    // nobody starves: each keeps what it holds
    expect(rebalanceLimit([need('host-1', 5), need('host-2', 1), need('host-3', 1)], 1)).toBeUndefined();
    // one starves but nobody holds more than the share: there is nothing to move
    expect(rebalanceLimit([need('host-1', 1), need('host-2', 0, true), need('host-3', 1)], 1)).toBeUndefined();
    expect(rebalanceLimit([need('host-1', 9), need('host-2', 0, true)], undefined)).toBeUndefined();
  });

  it('asks back, for ContainerNics waiting beyond what is free, idle pre-claims from the nodes holding the most, down to none', () => {
    // the lab's `lan` shrunk to a /28: two NICs short, host-1 holds 8 idle, host-2 5
    expect(nicLimit([8, 5, 0], 2)).toBe(6);
    expect(nicLimit([8, 5, 0], 3)).toBe(5);
    expect(nicLimit([8, 5, 0], 4)).toBe(4);
    expect(nicLimit([8, 5, 0], 7)).toBe(3);
    // `small`: one NIC short, each node holds its one: nothing less than none covers it
    expect(nicLimit([1, 1, 1], 1)).toBe(0);
    // more short than is idle: all of it
    expect(nicLimit([2, 1], 9)).toBe(0);
    // nothing short, or nothing idle to give
    expect(nicLimit([8, 5, 0], 0)).toBeUndefined();
    expect(nicLimit([8, 5, 0], -3)).toBeUndefined();
    expect(nicLimit([0, 0], 1)).toBeUndefined();
    expect(nicLimit([], 1)).toBeUndefined();
  });

  it('says why a node has no address, naming who holds idle ones', () => {
    const needs = [{ name: 'host-1', idle: 5, starving: false }, { name: 'host-2', idle: 0, starving: true }, { name: 'host-3', idle: 0, starving: true }];
    expect(starvedMessage(8, needs, 'host-2', 1)).toBe('no free address for its containers: all 8 of the pool\'s addresses are taken; idle ones are held by host-1 (5), asked to keep at most 1');
    expect(starvedMessage(8, [{ name: 'host-1', idle: 0, starving: false }, needs[1]], 'host-2')).toBe('no free address for its containers: all 8 of the pool\'s addresses are taken, none idle on another node');
    const many = Array.from({ length: 10 }, (_, i) => ({ name: `node-with-a-rather-long-name-${i}`, idle: i, starving: false }));
    expect(starvedMessage(200, many, 'host-2').length).toBeLessThanOrEqual(160);
    // within the length kept, fewer holders are named (the rest counted) rather than the end cut,
    // which says what was asked of them
    const racks = Array.from({ length: 10 }, (_, i) => ({ name: `rack-a-node-${i}`, idle: i, starving: false }));
    expect(starvedMessage(200, racks, 'host-2', 2)).toBe('no free address for its containers: all 200 of the pool\'s addresses are taken; idle ones are held by rack-a-node-9 (9) and 8 more, asked to keep at most 2');
    // a single name too long for it: the middle goes, the holder and what was asked stay
    const short = starvedMessage(200, many, 'host-2', 2);
    expect(short.length).toBeLessThanOrEqual(160);
    expect(short).toMatch(/^no free address for its containers: .*\.\.\.; idle ones are held by node-with-a-rather-long-name-9 \(9\) and 8 more, asked to keep at most 2$/);
    // the free ones are kept for ContainerNics waiting: said so
    expect(starvedMessage(8, needs, 'host-2', 0, 2)).toBe('no free address for its containers: all 8 of the pool\'s addresses are taken or kept for 2 NIC(s); idle ones are held by host-1 (5), asked to keep at most 0');
  });
});

describe('the agent gives back what it holds free above the limit', () => {
  it('returns above HIGH_WATER down to TARGET_FREE without a limit, above the limit down to it with one', () => {
    const free = range('10.0.0.10', 30);
    expect(surplusOf(free)).toEqual(free.slice(8));
    expect(surplusOf(free.slice(0, HIGH_WATER))).toEqual([]);
    expect(surplusOf(free.slice(0, 5), 1)).toEqual(free.slice(1, 5));
    expect(surplusOf(free.slice(0, 12), 10)).toEqual(free.slice(8, 12));
    expect(surplusOf(free.slice(0, 1), 1)).toEqual([]);
  });

  const net = { subnet: '10.9.0.0/24', gateway: '10.9.0.1' };
  it('gives back its idle addresses above the controller\'s limit as soon as the status says so, never one in use', () => {
    const book = new AddressBook(new MemoryJournal(), () => undefined);
    const pool = range('10.9.0.11', 5);
    book.setPool('mv', pool, net);
    book.assign('mv', '10.9.0.11');
    expect(book.report('mv').returned).toEqual([]);
    book.setPool('mv', pool, net, 1);
    expect(book.report('mv').returned).toEqual(['10.9.0.13', '10.9.0.14', '10.9.0.15']);
    expect(book.free('mv')).toEqual(['10.9.0.12']);
    // the controller released them: the limit holds the next time free addresses pile up
    book.setPool('mv', ['10.9.0.11', '10.9.0.12'], net, 1);
    expect(book.report('mv').returned).toEqual([]);
    book.identify('mv', '10.9.0.11', 'c1', 'web');
    book.drop('mv', '10.9.0.11');
    expect(book.report('mv').returned).toEqual(['10.9.0.12']);
  });

  it('keeps what it holds when the controller gives no limit (an agent of the version before behaves the same)', () => {
    const book = new AddressBook(new MemoryJournal(), () => undefined);
    book.setPool('mv', range('10.9.0.11', 5), net);
    book.setPool('mv', range('10.9.0.11', 5), net, undefined);
    expect(book.report('mv').returned).toEqual([]);
    expect(book.free('mv').length).toBe(5);
  });
});

describe('the agent reads the controller\'s limit from its part of the MacvlanNet status', () => {
  const mvn = (part: Record<string, unknown>): MacvlanNet => ({
    apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'mv', generation: 1 },
    spec: { subnet: '10.9.0.0/24', mode: 'bridge', promiscuous: true, hostShim: true, blockPrefix: 28, dockerIPAM: 'xnet', parent: 'eth0' },
    status: { nodes: [{ name: 'host-1', addresses: ['10.9.0.11'], ...part }] },
  });
  it('takes a count, and anything else as no limit (the node then keeps what it holds)', () => {
    expect(macvlanNodeStatus(mvn({ maxFree: 2 }), 'host-1')?.maxFree).toBe(2);
    expect(macvlanNodeStatus(mvn({ maxFree: 0 }), 'host-1')?.maxFree).toBe(0);
    for (const bad of [-1, 1.5, '2', null, 1e300]) expect(macvlanNodeStatus(mvn({ maxFree: bad }), 'host-1')?.maxFree).toBeUndefined();
    expect(macvlanNodeStatus(mvn({}), 'host-1')).toEqual({ name: 'host-1', addresses: ['10.9.0.11'] });
  });
});

describe('an address granted for a --ip request is not given back as surplus', () => {
  const net = { subnet: '10.9.0.0/24', gateway: '10.9.0.1' };
  it('keeps the requested address out of the surplus above the limit until the request takes it or gives up', () => {
    const book = new AddressBook(new MemoryJournal(), () => undefined);
    const pool = range('10.9.0.11', 3);
    book.setPool('mv', pool, net);
    book.ask('mv', { ip: '10.9.0.200' });
    // the controller grants it while this node is over its limit (another node starves)
    book.setPool('mv', [...pool, '10.9.0.200'], net, 1);
    expect(book.report('mv').returned).toEqual(['10.9.0.12', '10.9.0.13']);
    expect(book.free('mv')).toContain('10.9.0.200');
    // the other caller of setPool (the macvlan pass after followPool) before the request wakes
    book.setPool('mv', [...pool, '10.9.0.200'], net, 1);
    expect(book.free('mv')).toContain('10.9.0.200');
    // taken: from then on it is in use; dropped later, it is surplus like any other
    book.assign('mv', '10.9.0.200');
    book.drop('mv', '10.9.0.200');
    expect(book.report('mv').returned).toContain('10.9.0.200');
  });
});
