// `docker network disconnect` of a container (found in a Docker user's trial): Docker's
// ReleaseAddress says neither for which container nor why, so the plugin keeps the address as
// for a stop (../../pkg/dockeripam/kept-owner.ts); the agent's sync then sees the container
// no longer on the network at all (a stopped one still is) and frees it, as Docker's own IPAM
// does. Pure: the real book and NodeIpam, a fake Docker (pkg/agent/reconcilers/docker-ipam.ts).
import { describe, expect, it } from 'vitest';
import type { AgentContext } from '../../pkg/agent/context.js';
import { leftNetwork, syncDockerIpam } from '../../pkg/agent/reconcilers/docker-ipam.js';
import type { ContainerInfo, NetworkEndpoint } from '../../pkg/docker/types.js';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('agent');
log.level = 'error';

function docker(endpoints: NetworkEndpoint[], containers: Record<string, ContainerInfo | undefined>): AgentContext {
  const d = {
    networkEndpoints: async () => endpoints,
    inspectContainer: async (id: string) => containers[id],
    disconnect: async () => {}, connect: async () => {},
  };
  return { log, node: 'h1', caches: { macvlanNets: { get: () => undefined } }, dp: { docker: d, containerState: async () => undefined } } as unknown as AgentContext;
}

const sync = (book: AddressBook, ctx: AgentContext) => syncDockerIpam(ctx, book, { metadata: { name: 'm' } } as never, 'net');
const address = async (ipam: NodeIpam) => (await ipam.requestAddress({ PoolID: 'm' })).split('/')[0];
const info = (id: string, running: boolean, networks: string[]): ContainerInfo =>
  ({ id, name: id.toLowerCase(), running, pid: 0, restartPolicy: 'no', startedAt: '2026-01-01T00:00:00Z', networks });

/** MacvlanNet m with three addresses; C got the first (docker network connect) and is known to the book. */
async function connectedC() {
  const book = new AddressBook(new MemoryJournal(), () => {});
  book.setPool('m', ['10.9.0.10', '10.9.0.11', '10.9.0.12'], { subnet: '10.9.0.0/24' });
  const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, starting: async () => false });
  const x = await address(ipam);
  book.identify('m', x, 'C', 'c');
  book.learn('m', x, 'C', { restarts: false, pinned: false });
  return { book, ipam, x };
}

describe('docker network disconnect of a running container', () => {
  it('frees its address for good: the next container gets it, nothing is kept', async () => {
    const { book, ipam, x } = await connectedC();
    await ipam.releaseAddress('m', `${x}/24`); // Docker's release: a stop or a disconnect, it says not which
    await sync(book, docker([], { C: info('C', true, ['bridge']) })); // the network disconnect event's sync
    expect(book.isKept('m', x)).toBe(false);
    expect(book.entry('m', x)).toBeUndefined();
    expect(book.free('m')).toContain(x);
    expect(await address(ipam)).toBe(x); // docker run D: the lowest free address, C's former one
  });

  it('the release missed (agent down at the disconnect): freed too, not kept', async () => {
    const { book, x } = await connectedC();
    await sync(book, docker([], { C: info('C', true, ['bridge']) }));
    expect(book.entry('m', x)).toBeUndefined();
    expect(book.free('m')).toContain(x);
  });

  it('a stopped container taken off the network (docker network disconnect of a stopped one) loses its kept address', async () => {
    const { book, ipam, x } = await connectedC();
    await ipam.releaseAddress('m', `${x}/24`); // docker stop C
    await sync(book, docker([], { C: info('C', false, ['net']) }));
    expect(book.isKept('m', x)).toBe(true);
    await sync(book, docker([], { C: info('C', false, []) })); // docker network disconnect net C
    expect(book.entry('m', x)).toBeUndefined();
  });

  it('an address lent away goes back to the container it is kept for when the borrower is taken off', async () => {
    const { book, ipam, x } = await connectedC();
    await ipam.releaseAddress('m', `${x}/24`); // docker stop C: X kept for C
    book.lend('m', x); // a starting container (taken for C) got it...
    book.identify('m', x, 'D', 'd'); // ...but it was D
    await sync(book, docker([], { C: info('C', false, ['net']), D: info('D', true, []) })); // D disconnected, its release missed
    expect(book.isKept('m', x)).toBe(true);
    expect(book.entry('m', x)?.container).toBe('C');
  });
});

describe('a stopped container keeps its address (unchanged)', () => {
  it('stopped, still on the network: kept, and its start gets it back', async () => {
    const { book, ipam, x } = await connectedC();
    await ipam.releaseAddress('m', `${x}/24`);
    await sync(book, docker([], { C: info('C', false, ['net']) }));
    expect(book.isKept('m', x)).toBe(true);
    expect(await address(ipam)).not.toBe(x); // docker run D: never C's kept address
  });

  it('restarting (Docker shows it running between its restart policy\'s tries, off every network): kept', async () => {
    const { book, ipam, x } = await connectedC();
    await ipam.releaseAddress('m', `${x}/24`);
    await sync(book, docker([], { C: info('C', true, ['net']) }));
    expect(book.isKept('m', x)).toBe(true);
  });

  it('Docker showed no networks: not taken for a disconnect', async () => {
    const { book, ipam, x } = await connectedC();
    await ipam.releaseAddress('m', `${x}/24`);
    const { networks: _, ...c } = info('C', true, []);
    await sync(book, docker([], { C: c }));
    expect(book.isKept('m', x)).toBe(true);
  });
});

describe('leftNetwork', () => {
  const a = { ip: '10.9.0.10', rev: 0, at: 0, container: 'C' };
  it('is the network missing from the container\'s networks, when Docker shows them', () => {
    expect(leftNetwork(info('C', true, ['bridge']), 'net', a)).toBe(true);
    expect(leftNetwork(info('C', false, ['bridge', 'net']), 'net', a)).toBe(false);
    expect(leftNetwork({ ...info('C', true, []), networks: undefined }, 'net', a)).toBe(false);
  });
  it('never for an address lent away from another container', () => {
    expect(leftNetwork(info('D', true, []), 'net', { ...a, container: 'D', lentFrom: { container: 'C' } })).toBe(false);
  });
});
