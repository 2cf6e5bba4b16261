// Found in review: a stopped container pinned to its address (--ip X) starts again: the plugin's
// --ip answer hands X out as a brand-new address (AddressBook.assign), forgetting whose it is.
// Stopped again before the agent's sync has identified it (a crash-looping container, a quick
// `docker restart`), Docker's ReleaseAddress then frees X instead of keeping it for the
// container, and the next plain `docker run` is handed X: the pinned container's next start is
// refused ("in use by"). A container that is not pinned, given its kept address by lend(),
// keeps it across the same sequence.
import { describe, expect, it } from 'vitest';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('test');
log.level = 'error';
const net = { subnet: '10.9.0.0/24' };

function make() {
  const book = new AddressBook(new MemoryJournal(), () => undefined);
  const starting = new Set<string>();
  const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 200, starting: async (c) => starting.has(c) });
  book.setPool('mv', ['10.9.0.10', '10.9.0.11', '10.9.0.12'], net);
  return { book, ipam, starting };
}

/** docker run --ip X --restart always A: identified and learnt by the sync, then it stops (X kept for A). */
async function pinnedAStopped(): Promise<ReturnType<typeof make> & { x: string }> {
  const m = make();
  const x = '10.9.0.10';
  expect(await m.ipam.requestAddress({ PoolID: 'mv', Address: x })).toBe(`${x}/24`);
  m.book.identify('mv', x, 'A', 'a');
  m.book.learn('mv', x, 'A', { restarts: true, pinned: true });
  await m.ipam.releaseAddress('mv', `${x}/24`);
  expect(m.book.isKept('mv', x)).toBe(true);
  return { ...m, x };
}

describe('a pinned container stopped again before the sync identified it', () => {
  it('keeps its address (as a not pinned one does), and a new container never gets it', async () => {
    const { book, ipam, x } = await pinnedAStopped();
    // A starts again (pinned: --ip X) and stops again before any sync looked at Docker
    expect(await ipam.requestAddress({ PoolID: 'mv', Address: x })).toBe(`${x}/24`);
    await ipam.releaseAddress('mv', `${x}/24`);
    expect.soft(book.isKept('mv', x), 'X still kept for A after its second stop').toBe(true);
    // docker run B (a new container)
    expect(await ipam.requestAddress({ PoolID: 'mv' }), 'a new container is handed A\'s pinned address').not.toBe(`${x}/24`);
  });

  it('the same with a container that is not pinned (control: lend keeps whose it is)', async () => {
    const { book, ipam, starting } = make();
    const x = (await ipam.requestAddress({ PoolID: 'mv' })).split('/')[0];
    book.identify('mv', x, 'A', 'a');
    book.learn('mv', x, 'A', { restarts: true, pinned: false });
    await ipam.releaseAddress('mv', `${x}/24`);
    starting.add('A');
    expect(await ipam.requestAddress({ PoolID: 'mv' })).toBe(`${x}/24`);
    starting.delete('A');
    await ipam.releaseAddress('mv', `${x}/24`);
    expect(book.isKept('mv', x)).toBe(true);
    expect(await ipam.requestAddress({ PoolID: 'mv' })).not.toBe(`${x}/24`);
  });
});

describe('another container taking a kept address with --ip', () => {
  it('keeps it as its own once identified, as Docker\'s own IPAM lets it: the stopped owner gets another on restart', async () => {
    const { book, ipam, x } = await pinnedAStopped();
    // docker run --ip X B: the user takes it; the sync identifies B, pinned
    expect(await ipam.requestAddress({ PoolID: 'mv', Address: x })).toBe(`${x}/24`);
    book.identify('mv', x, 'B', 'b');
    book.learn('mv', x, 'B', { restarts: true, pinned: true });
    await ipam.releaseAddress('mv', `${x}/24`);
    expect(book.holder('mv', x)).toBe('container b (stopped; the address is kept for it)');
    expect(book.homeOf('mv', 'A')).toBeUndefined();
  });
});
