// Found in review: an address freed on this node (its container removed: the sync drops it) did
// not wake a request already waiting for one; only the controller's pool changes and refusals
// did, and the controller sends no refill for an address the node already has free, so the
// request got it only when its own wait ran out (20 s; with ARP probing it could be refused
// then). Proven with the wait out of reach: the request's wait is 60 s, the test's 5.
import { describe, expect, it } from 'vitest';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('test');
log.level = 'error';

describe('an address freed here while a request waits for one', () => {
  it('goes to the waiting request at once, not when its wait runs out', async () => {
    const book = new AddressBook(new MemoryJournal(), () => undefined);
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 60_000 });
    book.setPool('mv', ['10.9.0.10'], { subnet: '10.9.0.0/24' });
    const x = (await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0];
    book.identify('mv', x, 'C', 'c');
    const waiting = ipam.requestAddress({ PoolID: 'mv' }); // docker run D: none free, it waits
    await new Promise((r) => setTimeout(r, 50));
    book.drop('mv', x); // docker rm -f C: the sync frees C's address
    const answer = await Promise.race([waiting, new Promise((r) => setTimeout(() => r('still waiting after 5 s'), 5000))]);
    expect(answer).toBe(`${x}/24`);
    ipam.close();
  }, 10_000);
});
