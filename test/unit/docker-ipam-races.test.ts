// The Docker IPAM plugin's book against the races and inputs a review found: an address
// returned to the controller while a request probed it, --ip requests refused again and again,
// a journal file left empty by a power loss, and the gateway Docker is given on a MacvlanNet
// without one. Pure: an in-memory journal (a file one for the journal), no Docker, no etcd.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { FileJournal, MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { planNodePool } from '../../pkg/dockeripam/node-pool.js';
import { decodeReport, type NodeIpamReport } from '../../pkg/dockeripam/report.js';
import { macvlanRange } from '../../pkg/api/rules.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('agent');
log.level = 'error';
const A = (i: number) => `10.9.0.${i}`;

describe('xnet IPAM plugin', () => {
  it('does not hand out an address that was returned to the controller while it probed it', async () => {
    const reports: NodeIpamReport[] = [];
    const book: AddressBook = new AddressBook(new MemoryJournal(), (m) => reports.push(book.report(m)));
    const pool = Array.from({ length: 30 }, (_, i) => A(10 + i));
    book.setPool('m', pool, { subnet: '10.9.0.0/24' });
    for (let i = 10; i < 30; i++) { book.assign('m', A(i)); book.identify('m', A(i), `c${i}`, `n${i}`); }
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe: async () => { await gate; return 'free'; } });
    const request = ipam.requestAddress({ PoolID: 'm' });
    await new Promise((r) => setTimeout(r, 10));
    // while the probe runs: 15 containers removed, the book's surplus given back
    for (let i = 10; i < 25; i++) book.drop('m', A(i));
    const published = reports.at(-1)!;
    expect(published.returned.length).toBeGreaterThan(0);
    release();
    const got = (await request).split('/')[0];
    // what the controller releases from the published report is not what Docker now uses
    expect(planNodePool(new Set(pool.map(parseIPv4)), published).release).not.toContain(parseIPv4(got));
    expect(book.report('m').returned).not.toContain(got);
  });

  it('stops asking for a --ip that was refused: the report keeps decoding', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    book.setPool('m', [A(10)], { subnet: '10.9.0.0/16' });
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 1 });
    for (let i = 0; i < 300; i++) await ipam.requestAddress({ PoolID: 'm', Address: `10.9.${1 + (i >> 8)}.${i & 255}` }).catch(() => undefined);
    const r = book.report('m');
    expect(r.requested).toEqual([]);
    expect(decodeReport(r)).toBeDefined();
  });

  it('starts empty, keeping the file aside, when the journal is empty or cut short', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xnet-journal-'));
    try {
      for (const text of ['', '{"version":1,"nets":{"m":{"pool":["10.9']) {
        writeFileSync(join(dir, 'j.json'), text);
        const bad: string[] = [];
        const book = new AddressBook(new FileJournal(join(dir, 'j.json'), (m) => bad.push(m)), () => {});
        expect(book.report('m').assigned).toEqual([]);
        expect(bad[0]).toMatch(/not a valid journal \(not JSON/);
        expect(readdirSync(dir)).toContain('j.json.bad');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never hands out the address it gives Docker as the gateway of a MacvlanNet without one', async () => {
    const range = macvlanRange({ subnet: '10.9.0.0/24' } as never);
    expect(range[0].first).toBe(parseIPv4('10.9.0.2'));
    const book = new AddressBook(new MemoryJournal(), () => {});
    book.setPool('m', [A(2)], { subnet: '10.9.0.0/24' });
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined });
    const gw = await ipam.requestAddress({ PoolID: 'm', Options: { RequestAddressType: 'com.docker.network.gateway' } });
    expect(gw).toBe('10.9.0.1/24');
    expect(await ipam.requestAddress({ PoolID: 'm' })).toBe('10.9.0.2/24');
  });
});

describe('xnet IPAM plugin: the bound on a Docker request', () => {
  it('counts the wait behind earlier requests on the same MacvlanNet: a queued request is answered within waitMs of its arrival', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    book.setPool('m', [A(10)], { subnet: '10.9.0.0/24' });
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe: async () => { await gate; return 'free'; }, waitMs: 100 });
    const first = ipam.requestAddress({ PoolID: 'm' }); // its probe hangs: it holds the MacvlanNet's turn
    const arrived = Date.now();
    const queued = ipam.requestAddress({ PoolID: 'm' }).then(() => 'answered', (e: Error) => e.message);
    const outcome = await Promise.race([queued, new Promise((r) => setTimeout(() => r('still waiting'), 1000))]);
    expect(outcome).toMatch(/no answer within 100 ms/);
    expect(Date.now() - arrived).toBeLessThan(900);
    release();
    expect(await first).toBe('10.9.0.10/24'); // the one it waited behind goes on, untouched
    expect(book.report('m').want).toBe(0); // the refused one asked nothing of the controller
  });

  it('holds for the request whose turn it is too: no ARP probe begins past its deadline', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    book.setPool('m', [A(10), A(11), A(12), A(13), A(14)], { subnet: '10.9.0.0/24' });
    let probes = 0;
    // every address answers (someone outside xnet has it), each probe taking 60 ms
    const probe = async () => { probes++; await new Promise((r) => setTimeout(r, 60)); return 'answered' as const; };
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe, waitMs: 100 });
    await expect(ipam.requestAddress({ PoolID: 'm' })).rejects.toThrow(/could be checked by ARP within 100 ms/);
    expect(probes).toBeLessThanOrEqual(2); // 60 ms each: a third would begin past the 100 ms bound
  });
});

describe('xnet IPAM plugin: the bound, without giving up a checked address', () => {
  it('past the deadline, a free address already probed still goes; only unprobed ones wait', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    book.setPool('m', [A(10), A(11), A(12)], { subnet: '10.9.0.0/24' });
    book.markProbed('m', A(12)); // a background pass looked at it
    const probe = async () => { await new Promise((r) => setTimeout(r, 120)); return 'answered' as const; };
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe, waitMs: 100 });
    expect(await ipam.requestAddress({ PoolID: 'm' })).toBe(`${A(12)}/24`);
  });
});

/** A plugin whose pool holds `n` addresses, each ARP probe taking 40 ms, counting journal writes. */
function probingPlugin(n: number): { book: AddressBook; ipam: NodeIpam; saves: () => number } {
  let saves = 0;
  const journal = new MemoryJournal();
  const save = journal.save.bind(journal);
  journal.save = (st) => { saves++; save(st); };
  const book = new AddressBook(journal, () => {});
  book.setPool('m', Array.from({ length: n }, (_, i) => A(10 + i)), { subnet: '10.9.0.0/24' });
  const probe = async () => { await new Promise((r) => setTimeout(r, 40)); return 'free' as const; };
  return { book, ipam: new NodeIpam({ book, log, otherHolder: () => undefined, probe }), saves: () => saves };
}

describe('xnet IPAM plugin: stopping', () => {
  it('a request still being answered when the plugin closes writes no journal after close()', async () => {
    const { ipam, saves } = probingPlugin(2);
    const request = ipam.requestAddress({ PoolID: 'm' }); // its probe is out when the agent stops
    await new Promise((r) => setTimeout(r, 10));
    await ipam.close();
    const atClose = saves();
    await request.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(saves()).toBe(atClose);
  });

  it('after close() the background probes write no journal and stop after their batch', async () => {
    const { book, ipam, saves } = probingPlugin(8);
    void ipam.warm('m');
    await new Promise((r) => setTimeout(r, 10)); // the first four probes are out
    await ipam.close();
    const atClose = saves();
    await new Promise((r) => setTimeout(r, 150));
    expect(saves()).toBe(atClose);
    expect(book.free('m').filter((ip) => !book.isProbed('m', ip))).toHaveLength(4); // the pass stopped after its batch
  });
});
