// A MacvlanNet that leaves the node (deleted, or no longer selecting it: forgetDockerIpam)
// leaves the address book and its journal for good, whatever was in flight for it then: a
// background ARP pass, a --ip request waiting for the controller's grant, a request waiting for
// a refill. The book used to make an empty entry whenever one was read, so each of these wrote
// the MacvlanNet back (with the request's `requested` address), and the refresh probes, the
// gc's stale-ask sweep and the journal kept carrying it; the waiting requests were not woken
// and waited out their whole bound. Pure: the real book and plugin, an ARP probe held open.
import { describe, expect, it, vi } from 'vitest';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('test');
log.level = 'error';
const NET = { subnet: '10.9.0.0/24' };

function setup(probe?: () => Promise<'answered' | 'free'>) {
  const journal = new MemoryJournal();
  const book = new AddressBook(journal, () => undefined);
  // a bound long enough that a request refused at it says so: "was not granted", "no free address"
  const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 3_000, ...(probe ? { probe } : {}) });
  /** what the book and its journal know once any other MacvlanNet's change is saved */
  const known = () => {
    book.setPool('other', ['10.8.0.10'], { subnet: '10.8.0.0/24' });
    return { book: book.networks(), journal: Object.keys(journal.load().nets) };
  };
  return { book, ipam, known };
}

describe('a MacvlanNet forgotten while something was in flight for it', () => {
  it('stays forgotten when a background ARP probe of its free addresses ends after', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const { book, ipam, known } = setup(async () => { await gate; return 'answered'; });
    book.setPool('mv', ['10.9.0.10'], NET);
    const pass = ipam.warm('mv');
    book.forget('mv');
    release();
    await pass;
    expect(known(), 'MacvlanNets the book and its journal know').toEqual({ book: ['other'], journal: ['other'] });
    await ipam.close();
  });

  it('refuses at once a --ip request waiting for the controller, and does not write its ask back', async () => {
    const { book, ipam, known } = setup();
    book.setPool('mv', [], NET);
    const req = ipam.requestAddress({ PoolID: 'mv', Address: '10.9.0.20' }).then(() => 'granted', (e: Error) => e.message);
    await vi.waitFor(() => expect(book.waitingFor('mv')).toBe(1), { timeout: 2_000 });
    expect(book.report('mv').requested).toEqual(['10.9.0.20']);
    book.forget('mv');
    expect.soft(await req).toMatch(/^MacvlanNet mv left this node while the request waited/);
    expect(known(), 'MacvlanNets the book and its journal know').toEqual({ book: ['other'], journal: ['other'] });
    await ipam.close();
  });

  it('refuses at once a request waiting for a refill, and does not write the MacvlanNet back', async () => {
    const { book, ipam, known } = setup();
    book.setPool('mv', [], NET);
    const req = ipam.requestAddress({ PoolID: 'mv' }).then(() => 'granted', (e: Error) => e.message);
    await vi.waitFor(() => expect(book.waitingFor('mv')).toBe(1), { timeout: 2_000 });
    book.forget('mv');
    expect.soft(await req).toMatch(/^MacvlanNet mv left this node while the request waited/);
    expect(known(), 'MacvlanNets the book and its journal know').toEqual({ book: ['other'], journal: ['other'] });
    await ipam.close();
  });
});
