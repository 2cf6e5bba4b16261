// A stopped container's kept address goes only to that container, however long it stays
// stopped; a new container never gets it (a new-user trial: `docker stop d3; docker run d7`
// gave d7 d3's address and d3 could not start on the full pool; after 60 s the address went
// to nobody, not even its own container; a node no longer selected let `docker run` take it).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('test'); log.level = 'error';
const net = { subnet: '198.19.30.0/24' };
const pool = ['198.19.30.64', '198.19.30.65', '198.19.30.66', '198.19.30.67', '198.19.30.68', '198.19.30.69', '198.19.30.70'];

/** A node whose pool of 7 is full: d0..d6 on it. `startingNow`: the containers Docker is starting. */
async function fullPool(notOnNode?: () => string | undefined) {
  const book = new AddressBook(new MemoryJournal(), () => undefined);
  const startingNow = new Set<string>();
  const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, notOnNode, waitMs: 100, starting: async (c) => startingNow.has(c) });
  book.setPool('small', pool, net);
  for (let i = 0; i < pool.length; i++) {
    const ip = (await ipam.requestAddress({ PoolID: 'small' })).split('/')[0];
    book.identify('small', ip, `id-d${i}`, `d${i}`);
  }
  return { book, ipam, startingNow, ask: async () => (await ipam.requestAddress({ PoolID: 'small' })).split('/')[0] };
}

describe('a stopped container\'s kept address', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('is never given to a new container right after the stop; the stopped one starts again on it', async () => {
    const { ipam, startingNow, ask } = await fullPool();
    await ipam.releaseAddress('small', '198.19.30.70/24'); // docker stop d6
    const refused = ask(); // docker run d7: no free address
    await expect(refused).rejects.toThrow(/kept for stopped containers.*198\.19\.30\.70 \(d6\)/);
    await expect(refused).rejects.not.toThrow(/ipRange used up/);
    startingNow.add('id-d6');
    expect(await ask()).toBe('198.19.30.70'); // docker start d6
  });

  it('stays kept past 60 s, for its own container only', async () => {
    const { ipam, startingNow, ask } = await fullPool();
    const t0 = Date.now();
    await ipam.releaseAddress('small', '198.19.30.67/24'); // docker stop d3
    vi.spyOn(Date, 'now').mockReturnValue(t0 + 65_000);
    await expect(ask()).rejects.toThrow(/kept for stopped containers/); // a new container
    startingNow.add('id-d3');
    expect(await ask()).toBe('198.19.30.67'); // docker start d3, 65 s later
  });

  it('on a node no longer selected: a new container is refused at once, the stopped one starts on its address', async () => {
    let why: string | undefined;
    const { ipam, startingNow, ask } = await fullPool(() => why);
    await ipam.releaseAddress('small', '198.19.30.68/24'); // docker stop d4
    why = 'MacvlanNet small no longer selects node host-2 (nodeSelector rack=a)';
    await expect(ask()).rejects.toThrow(why); // docker run d6
    startingNow.add('id-d4');
    expect(await ask()).toBe('198.19.30.68'); // docker start d4
  });
});
