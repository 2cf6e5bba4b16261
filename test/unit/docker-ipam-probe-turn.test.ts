// An ARP probe's outcome counts only while its address stays in this node's pool, in one
// agent's life, and only when the probe could look. A Node deleted and made again gives its
// addresses to whichever node asks first; one this node had probed could be another node's
// container's by the time it came back, and was handed out unprobed to a second container
// (seen in a full run: docker-ipam-node-deleted.test.ts). Pure: an in-memory journal, probes
// that answer as the test says.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { PROBE_FRESH_MS } from '../../pkg/dockeripam/pool-turns.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('agent');
log.level = 'error';
const A = (i: number) => `10.9.0.${i}`;
const NET = { subnet: '10.9.0.0/24' };

/**
 * A plugin whose first probe of A(10) waits for `release` and says 'free' (what it saw before
 * the address went elsewhere); later ones answer once `wire.heldElsewhere`. Others are free.
 */
function plugin() {
  const book = new AddressBook(new MemoryJournal(), () => {});
  const looks: string[] = [];
  const wire = { heldElsewhere: false };
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let first = true;
  const probe = async (_mvn: string, ip: string) => {
    looks.push(ip);
    if (ip !== A(10)) return 'free' as const;
    // the first look at A(10) saw the wire before it went elsewhere, and ends late
    if (first) { first = false; await gate; return 'free' as const; }
    return wire.heldElsewhere ? 'answered' as const : 'free' as const;
  };
  return { book, looks, wire, release, ipam: new NodeIpam({ book, log, otherHolder: () => undefined, probe }) };
}

describe('xnet IPAM plugin: what an ARP probe\'s outcome holds for', () => {
  it('ended after the address left the pool: probed again when it comes back, and not handed out while another holds it', async () => {
    const { book, looks, wire, release, ipam } = plugin();
    book.setPool('m', [A(10), A(11)], NET);
    const warm = ipam.warm('m'); // the background pass looks at both
    await new Promise((r) => setTimeout(r, 10));
    book.setPool('m', [A(11)], NET); // A(10) goes to another node, whose container takes it
    wire.heldElsewhere = true;
    release();
    await warm;
    book.setPool('m', [A(10), A(11)], NET); // that node's Node goes; this node's refill takes A(10)
    expect(await ipam.requestAddress({ PoolID: 'm' })).toBe(`${A(11)}/24`);
    expect(looks.filter((ip) => ip === A(10))).toHaveLength(2);
    expect(book.report('m').external).toContain(A(10));
  });

  it('left and came back while the probe was out: the probe counts for nothing, the address is looked at again', async () => {
    const { book, looks, release, ipam } = plugin();
    book.setPool('m', [A(10)], NET);
    const warm = ipam.warm('m');
    await new Promise((r) => setTimeout(r, 10));
    book.setPool('m', [], NET);
    book.setPool('m', [A(10)], NET);
    release();
    await warm;
    expect(book.isProbed('m', A(10))).toBe(false);
    expect(await ipam.requestAddress({ PoolID: 'm' })).toBe(`${A(10)}/24`);
    expect(looks).toEqual([A(10), A(10)]);
  });

  it('a request\'s own probe outlived by the turn looks again before it hands the address out', async () => {
    const { book, looks, wire, release, ipam } = plugin();
    book.setPool('m', [A(10)], NET);
    const request = ipam.requestAddress({ PoolID: 'm' });
    await new Promise((r) => setTimeout(r, 10));
    book.setPool('m', [A(11)], NET); // gone meanwhile, held elsewhere, then given back
    wire.heldElsewhere = true;
    book.setPool('m', [A(10), A(11)], NET);
    release();
    expect(await request).toBe(`${A(11)}/24`);
    expect(looks.filter((ip) => ip === A(10))).toHaveLength(2);
  });

  it('an agent started again probes afresh: what the last one saw may be stale by now', async () => {
    const journal = new MemoryJournal();
    const before = new AddressBook(journal, () => {});
    before.setPool('m', [A(10), A(11)], NET);
    before.markProbed('m', A(10));
    before.markProbed('m', A(11));
    before.ask('m', { more: 1 }); // any later write takes the marks to the journal (an older agent wrote them at once)
    expect(journal.load().nets.m.probed).toHaveLength(2);
    // down meanwhile: its Node deleted, A(10) another node's container's, the Node back with it
    const book = new AddressBook(journal, () => {});
    const looks: string[] = [];
    const probe = async (_mvn: string, ip: string) => { looks.push(ip); return ip === A(10) ? 'answered' as const : 'free' as const; };
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe });
    book.setPool('m', [A(10), A(11)], NET);
    expect(await ipam.requestAddress({ PoolID: 'm' })).toBe(`${A(11)}/24`);
    expect(looks).toEqual([A(10), A(11)]);
  });

  it('a probe that could not look records nothing: the address is looked at once a probe can', async () => {
    // at start the plugin serves from the journal before the MacvlanNet is read from etcd: its
    // parent unknown, the background pass cannot look at anything
    const book = new AddressBook(new MemoryJournal(), () => {});
    const wire = { canLook: false };
    const looks: string[] = [];
    const probe = async (_mvn: string, ip: string) => {
      if (!wire.canLook) return 'unavailable' as const;
      looks.push(ip);
      return ip === A(10) ? 'answered' as const : 'free' as const;
    };
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe });
    book.setPool('m', [A(10), A(11)], NET);
    await ipam.warm('m');
    expect(book.isProbed('m', A(10))).toBe(false);
    wire.canLook = true;
    expect(await ipam.requestAddress({ PoolID: 'm' })).toBe(`${A(11)}/24`);
    expect(looks).toEqual([A(10), A(11)]);
  });

  it('a background pass ends at a probe that could not look: no arping, no spawn per free address at every change', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    let probes = 0;
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe: async () => { probes++; return 'unavailable' as const; } });
    book.setPool('m', Array.from({ length: 20 }, (_, i) => A(10 + i)), NET);
    await ipam.warm('m');
    expect(probes).toBe(4); // the first batch
  });
});

describe('xnet IPAM plugin: a look that ended before its address left', () => {
  it('counts for nothing when the address comes back: the mark went with the address', async () => {
    const { book, looks, wire, release, ipam } = plugin();
    release();
    book.setPool('m', [A(10), A(11)], NET);
    await ipam.warm('m'); // both looked at, both free
    book.setPool('m', [A(11)], NET);
    wire.heldElsewhere = true;
    book.setPool('m', [A(10), A(11)], NET);
    expect(await ipam.requestAddress({ PoolID: 'm' })).toBe(`${A(11)}/24`);
    expect(looks.filter((ip) => ip === A(10))).toHaveLength(2);
  });

  it('an answer to a background look begun before the address went to a container marks nothing', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    // the background look is out when the address goes to a container without a look of its
    // own (a kept address lent to a restarting container, say); that container answers the
    // look, and is gone (docker run --rm) when the answer lands
    const probe = async () => { await gate; return 'answered' as const; };
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe });
    book.setPool('m', [A(10)], NET);
    const warm = ipam.warm('m');
    await new Promise((r) => setTimeout(r, 10));
    book.assign('m', A(10));
    book.drop('m', A(10));
    release();
    await warm;
    expect(book.report('m').external).toEqual([]);
    expect(book.free('m')).toEqual([A(10)]);
  });
});

describe('xnet IPAM plugin: docker run --ip', () => {
  it('looks before it hands out the address asked for: one a host outside xnet answers for is refused, naming it', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    const looks: string[] = [];
    const probe = async (_mvn: string, ip: string) => { looks.push(ip); return ip === A(10) ? 'answered' as const : 'free' as const; };
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe });
    book.setPool('m', [A(10), A(11)], NET);
    await expect(ipam.requestAddress({ PoolID: 'm', Address: A(10) })).rejects.toThrow(/10\.9\.0\.10 .*answered an ARP probe/);
    expect(book.report('m').external).toEqual([A(10)]);
    expect(await ipam.requestAddress({ PoolID: 'm', Address: A(11) })).toBe(`${A(11)}/24`);
    expect(looks).toEqual([A(10), A(11)]);
  });
});

describe('xnet IPAM plugin: an address seen free long ago', () => {
  afterEach(() => { vi.useRealTimers(); });

  /** A plugin whose pool holds A(10) and A(11), both seen free by its background pass now. */
  async function lookedAtOnce() {
    vi.useFakeTimers({ toFake: ['performance', 'setInterval', 'clearInterval'] });
    const book = new AddressBook(new MemoryJournal(), () => {});
    const wire = { taken: false };
    const looks: string[] = [];
    // a host outside xnet takes A(10) once `wire.taken`
    const probe = async (_mvn: string, ip: string) => { looks.push(ip); return wire.taken && ip === A(10) ? 'answered' as const : 'free' as const; };
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe });
    book.setPool('m', [A(10), A(11)], NET);
    await ipam.warm('m');
    expect(looks).toEqual([A(10), A(11)]);
    return { book, wire, looks, ipam };
  }

  it('is looked at again before it goes out: one a host outside xnet took meanwhile is not handed out', async () => {
    const { book, wire, looks, ipam } = await lookedAtOnce();
    wire.taken = true;
    vi.advanceTimersByTime(PROBE_FRESH_MS - 1000);
    expect(book.isProbed('m', A(10))).toBe(true);
    vi.advanceTimersByTime(2000);
    expect(book.isProbed('m', A(10))).toBe(false);
    expect(await ipam.requestAddress({ PoolID: 'm' })).toBe(`${A(11)}/24`);
    expect(looks.slice(2)).toEqual([A(10), A(11)]);
    expect(book.report('m').external).toEqual([A(10)]);
  });

  it('is looked at again in the background once the plugin serves, at half its freshness, until it closes', async () => {
    const { looks, ipam } = await lookedAtOnce();
    ipam.refreshProbes(); // a pass at once: both just seen free, no look
    await vi.advanceTimersByTimeAsync(PROBE_FRESH_MS / 2 - 1000);
    expect(looks).toHaveLength(2);
    // the next pass looks again at what is half as old as a request would take
    await vi.advanceTimersByTimeAsync(1000);
    expect(looks).toEqual([A(10), A(11), A(10), A(11)]);
    await ipam.close();
    await vi.advanceTimersByTimeAsync(2 * PROBE_FRESH_MS);
    expect(looks).toHaveLength(4);
  });

  it('a background look that takes its time still keeps every free address fresh for requests', async () => {
    vi.useFakeTimers({ toFake: ['performance', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    const book = new AddressBook(new MemoryJournal(), () => {});
    // arping -c 2 -w 2: a look at a free address takes its 1.5 s
    const probe = async () => { await new Promise((r) => setTimeout(r, 1500)); return 'free' as const; };
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe });
    book.setPool('m', [A(10)], NET);
    ipam.refreshProbes(); // looks at once, then every PROBE_FRESH_MS / 2
    let stale = 0;
    for (let s = 0; s < 1800; s++) { await vi.advanceTimersByTimeAsync(1000); if (!book.isProbed('m', A(10))) stale++; }
    await ipam.close();
    expect(stale).toBeLessThanOrEqual(2);
  });

  it('one look at a time per address: a request and the background pass share it', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    const looks: string[] = [];
    const probe = async (_mvn: string, ip: string) => { looks.push(ip); await new Promise((r) => setTimeout(r, 20)); return 'free' as const; };
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe });
    book.setPool('m', [A(10)], NET);
    const warm = ipam.warm('m');
    expect(await ipam.requestAddress({ PoolID: 'm' })).toBe(`${A(10)}/24`);
    await warm;
    expect(looks).toEqual([A(10)]);
  });
});
