// An agent that starts while a container stops (or starts) finds its endpoint in no sandbox:
// Docker lists it as `ep-<endpoint ID>` with the container's name. The adoption took that key
// for the address's holder, so the container's ReleaseAddress kept the address for `ep-...`;
// the next sync did not see it on the network, inspected `ep-...` (404) and freed it as the
// address of a removed container, and the next `docker run` got the address the stopped
// container keeps. A detached endpoint is now the container the book has under that name.
import { describe, expect, it } from 'vitest';
import type { AgentContext } from '../../pkg/agent/context.js';
import { syncDockerIpam } from '../../pkg/agent/reconcilers/docker-ipam.js';
import type { ContainerInfo } from '../../pkg/docker/types.js';
import { planAdoption, type SeenEndpoint } from '../../pkg/dockeripam/adopt.js';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('agent');
log.level = 'error';
const net = { subnet: '10.9.0.0/24' };
const detached = (ip: string, name: string): SeenEndpoint => ({ mvn: 'm', ip, container: `ep-${name}0001`, name, detached: true });

describe('a detached endpoint (ep-...) found by the adoption', () => {
  it('an agent started while C stops keeps C\'s address for C: a later docker run does not get it', async () => {
    // the journal an agent left: C (no restart policy) running on x
    const journal = new MemoryJournal();
    const first = new AddressBook(journal, () => {});
    first.setPool('m', ['10.9.0.10', '10.9.0.11', '10.9.0.12'], net);
    const x = (await new NodeIpam({ book: first, log, otherHolder: () => undefined }).requestAddress({ PoolID: 'm' })).split('/')[0];
    first.identify('m', x, 'C', 'c');
    first.learn('m', x, 'C', { restarts: false, pinned: false });
    first.close();

    // the agent starts again while C stops: Docker lists C's endpoint, out of its sandbox
    const book = new AddressBook(journal, () => {});
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, starting: async () => false,
      dockerEndpoints: async () => [{ ...detached(x, 'c'), container: 'ep-5f3a9c' }] });
    await ipam.adopt();
    await ipam.releaseAddress('m', `${x}/24`); // Docker deletes the endpoint: C stopped, x kept for it

    // the next sync: C stopped (still on the network), its endpoint gone
    const stopped: ContainerInfo = { id: 'C', name: 'c', running: false, pid: 0, restartPolicy: 'no', startedAt: '2026-01-01T00:00:00Z', networks: ['net'] };
    const docker = { networkEndpoints: async () => [], inspectContainer: async (id: string) => (id === 'C' ? stopped : undefined), disconnect: async () => {}, connect: async () => {} };
    const ctx = { log, node: 'h1', caches: { macvlanNets: { get: () => undefined } }, dp: { docker, containerState: async () => undefined } } as unknown as AgentContext;
    await syncDockerIpam(ctx, book, { metadata: { name: 'm' } } as never, 'net');

    expect(book.holder('m', x), 'who holds x after the sync').toBe('container c (stopped; the address is kept for it)');
    expect((await ipam.requestAddress({ PoolID: 'm' })).split('/')[0], 'docker run D').not.toBe(x);
  });

  it('is the container the book has under its name (kept or lent), or left as Docker lists it when the book has none', () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    book.setPool('m', ['10.9.0.10', '10.9.0.11', '10.9.0.12', '10.9.0.13', '10.9.0.14'], net);
    book.assign('m', '10.9.0.10'); book.identify('m', '10.9.0.10', 'C1', 'one'); // live for C1
    book.assign('m', '10.9.0.11'); book.identify('m', '10.9.0.11', 'C2', 'two');
    book.dockerReleased('m', '10.9.0.11'); // kept for C2, which Docker is starting again
    book.assign('m', '10.9.0.12'); book.identify('m', '10.9.0.12', 'C3', 'three'); // C3's, but "other" shows on it
    book.assign('m', '10.9.0.13'); book.identify('m', '10.9.0.13', 'C4', 'four');
    book.dockerReleased('m', '10.9.0.13'); book.lend('m', '10.9.0.13'); // kept for C4, lent to a starting container: C4 itself
    const seen = [detached('10.9.0.10', 'one'), detached('10.9.0.11', 'two'), detached('10.9.0.12', 'other'), detached('10.9.0.13', 'four'), detached('10.9.0.14', 'new')];
    expect(planAdoption(seen, (mvn) => book.assigned(mvn)).map((e) => `${e.ip} ${e.container}`))
      .toEqual(['10.9.0.11 C2', '10.9.0.12 ep-other0001', '10.9.0.13 C4', '10.9.0.14 ep-new0001']);
  });
});
