// A request that waits for its MacvlanNet's pool to change (no free address yet, an --ip not
// granted yet) is woken by the change, and one that times out leaves nothing behind: a request
// retried against a pool that never changes once left a resolver per attempt for good.
import { describe, expect, it } from 'vitest';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';

const NET = { subnet: '10.9.0.0/24' };

describe('xnet IPAM plugin: waiting for the pool to change', () => {
  it('wakes every waiter of that MacvlanNet at the change, and only them', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    book.setPool('m', ['10.9.0.10'], NET);
    let woke = 0;
    const waits = [book.poolChanged('m', 60_000), book.poolChanged('m', 60_000)].map((p) => p.then(() => { woke++; }));
    const other = book.poolChanged('n', 60_000).then(() => { woke += 100; });
    expect(book.waitingFor('m')).toBe(2);
    book.setPool('m', ['10.9.0.10', '10.9.0.11'], NET);
    await Promise.all(waits);
    expect(woke).toBe(2);
    expect(book.waitingFor('m')).toBe(0);
    expect(book.waitingFor('n')).toBe(1);
    book.setPool('n', ['10.9.0.20'], NET);
    await other;
    expect(woke).toBe(102);
  });

  it('forgets a wait that timed out', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    book.setPool('m', ['10.9.0.10'], NET);
    for (let i = 0; i < 5; i++) await book.poolChanged('m', 5);
    expect(book.waitingFor('m')).toBe(0);
  });
});
