// A --ip request that waited for the controller and then got a kept address by lend(): the
// address is no longer awaited. Before, lend() left it awaited for good (assign() did not), so
// the node never gave it back when asked for by name, never as surplus, and a later ask for it
// was never swept (review h181).
import { describe, expect, it } from 'vitest';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { dropStaleAsks } from '../../pkg/dockeripam/stale-asks.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('test');
log.level = 'error';
const net = { subnet: '10.9.0.0/24' };
const X = '10.9.0.10';

describe('--ip of a kept address granted back into the pool while the request waits', () => {
  it('leaves nothing awaited once the request is answered', async () => {
    const book = new AddressBook(new MemoryJournal(), () => undefined);
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, waitMs: 3000 });
    book.setPool('mv', [X, '10.9.0.11'], net);
    // docker run --ip X A; identified; stopped: X kept for A
    expect(await ipam.requestAddress({ PoolID: 'mv', Address: X })).toBe(`${X}/24`);
    book.identify('mv', X, 'A', 'a');
    book.learn('mv', X, 'A', { restarts: true, pinned: true });
    await ipam.releaseAddress('mv', `${X}/24`);
    expect(book.isKept('mv', X)).toBe(true);
    // the controller's list no longer has X (e.g. Node deleted and made again, pool not yet reclaimed)
    book.setPool('mv', ['10.9.0.11'], net);
    // A starts again with --ip X: asked of the controller, which grants it back 100 ms later
    const req = ipam.requestAddress({ PoolID: 'mv', Address: X });
    await new Promise((r) => setTimeout(r, 100));
    expect(book.report('mv').requested).toEqual([X]);
    book.setPool('mv', [X, '10.9.0.11'], net);
    expect(await req).toBe(`${X}/24`);
    // the sync identifies A again; later A is removed (docker rm): X is free on this node
    book.identify('mv', X, 'A', 'a');
    book.drop('mv', X);
    expect(book.free('mv')).toContain(X);
    // another node's docker run --ip X: the controller asks this node for X back by name
    book.setPool('mv', [X, '10.9.0.11'], net, undefined, undefined, [X]);
    expect.soft(book.report('mv').returned, 'X given back when asked for by name').toContain(X);
    // and a home ask for X later is never swept as stale
    book.ask('mv', { ip: '10.9.0.10', home: true });
    expect.soft(dropStaleAsks(book, 'mv', new Set()), 'stale home ask for X swept').toEqual([X]);
    await ipam.close();
  });
});
