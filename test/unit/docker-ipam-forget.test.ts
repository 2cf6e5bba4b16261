// What the agent's IPAM side keeps in memory for a MacvlanNet's containers that came back on
// another address than the one kept for them (pkg/agent/reconcilers/docker-ipam.ts): the asks
// for their homes (./home-asks.ts) and the moves home tried. Bounded, but they stayed after the
// MacvlanNet was deleted, while the address book forgot its pool: they go with it now. Pure: the
// real book, plugin and reconciler, a fake Docker and host.
import { describe, expect, it } from 'vitest';
import type { AgentContext } from '../../pkg/agent/context.js';
import { dockerIpamHeld, syncDockerIpam } from '../../pkg/agent/reconcilers/docker-ipam.js';
import { reconcileMacvlan } from '../../pkg/agent/reconcilers/macvlan.js';
import type { ContainerInfo, NetworkEndpoint } from '../../pkg/docker/types.js';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('agent');
log.level = 'error';

const running = (id: string): ContainerInfo => ({ id, name: id.toLowerCase(), running: true, pid: 0, restartPolicy: 'no', startedAt: '2026-01-01T00:00:00Z' });
const pool = (...last: number[]) => last.map((n) => `10.9.0.${n}`);
const mvn = { metadata: { name: 'm' }, spec: { subnet: '10.9.0.0/24' } } as never;

/** An agent on h1 whose MacvlanNet m is gone from its caches; Docker lists `eps` on its network and moves no container to an asked address. */
function agent(book: AddressBook, eps: NetworkEndpoint[]) {
  const none = { get: () => undefined, list: () => [], hasSynced: () => true };
  const docker = {
    networkEndpoints: async () => eps,
    inspectContainer: async (id: string) => running(id),
    disconnect: async () => {},
    connect: async (_n: string, _c: string, ip?: string) => { if (ip) throw new Error('address in use'); },
    listNetworks: async () => [],
  };
  return {
    node: 'h1', log, ipam: { book }, unreadable: () => [],
    caches: { macvlanNets: none, nodes: { get: () => ({ metadata: { name: 'h1' }, spec: {} }), list: () => [] }, nics: none },
    status: { remove: async () => undefined },
    dp: { docker, containerState: async () => undefined, dockerNetworks: async () => [], hostState: async () => ({ links: [], addrs: [], routes: [] }), execute: async () => undefined },
  } as unknown as AgentContext;
}

describe('a deleted MacvlanNet\'s containers that came back on another address', () => {
  it('leave nothing of theirs in the agent\'s memory: the asks for their homes and the moves tried go with the MacvlanNet', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    book.setPool('m', pool(10, 11, 12, 13, 14), { subnet: '10.9.0.0/24' });
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, starting: async () => true });
    for (const [c, ip] of [['C', '10.9.0.10'], ['D', '10.9.0.11']]) {
      expect((await ipam.requestAddress({ PoolID: 'm', Address: ip })).split('/')[0]).toBe(ip);
      book.identify('m', ip, c, c.toLowerCase());
      book.learn('m', ip, c, { restarts: false, pinned: false });
      await ipam.releaseAddress('m', `${ip}/24`); // docker stop: kept for it
    }
    await ipam.requestAddress({ PoolID: 'm', Address: '10.9.0.12' }); // C starts again on .12
    await ipam.requestAddress({ PoolID: 'm', Address: '10.9.0.13' }); // D on .13
    book.setPool('m', pool(11, 12, 13, 14), { subnet: '10.9.0.0/24' }); // C's home no longer the node's
    const ctx = agent(book, [{ container: 'C', name: 'c', ip: '10.9.0.12' }, { container: 'D', name: 'd', ip: '10.9.0.13' }]);
    await syncDockerIpam(ctx, book, mvn, 'net');
    // C's home asked for by name, D's move home tried once and failed
    expect(book.report('m').requested).toEqual(['10.9.0.10']);
    expect(dockerIpamHeld(book, 'm')).toEqual({ asks: 1, moves: 1 });
    await reconcileMacvlan(ctx, 'm'); // the MacvlanNet is deleted
    expect(book.report('m').requested).toEqual([]);
    expect(dockerIpamHeld(book, 'm')).toEqual({ asks: 0, moves: 0 });
  });
});
