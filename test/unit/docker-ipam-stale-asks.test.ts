// What the node asks the controller for by name (its IPAM report's `requested`) is journalled:
// an agent stopped while a `docker run --ip` request or an ask for a kept home waited left the
// address asked for, and the controller keeps it for this node (for no one else) meanwhile. The
// MacvlanNet's IPAM sync drops what nothing waits for any more, but it runs only while the
// MacvlanNet has a Docker network here: one whose network was gone (removed, never made again:
// the MacvlanNet stopped at a problem, waits for its addresses, or left) kept the journal's ask
// for good. Pure: the real book and journal, a fake Docker.
import { describe, expect, it } from 'vitest';
import type { AgentContext } from '../../pkg/agent/context.js';
import { sweepUnservedAsks, syncDockerIpam } from '../../pkg/agent/reconcilers/docker-ipam.js';
import type { DockerNetwork } from '../../pkg/docker/types.js';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { MVN_OPTION } from '../../pkg/dockeripam/node-ipam.js';

const PLUGIN = 'xnet';

/** An agent whose IPAM book is `book`; Docker has `networks` (none inspected: a network not listed is gone). */
function agent(book: AddressBook, networks: DockerNetwork[] = []) {
  const said: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const note = (msg: string, fields?: Record<string, unknown>) => { said.push({ msg, fields }); };
  const docker = {
    listNetworks: async () => networks,
    networkEndpoints: async (name: string) => (networks.some((n) => n.name === name) ? [] : undefined),
    inspectContainer: async () => undefined, disconnect: async () => {}, connect: async () => {},
  };
  const ctx = { node: 'h1', log: { info: note, warn: note, debug: () => {} }, ipam: { plugin: PLUGIN, book }, caches: { macvlanNets: { get: () => undefined } }, dp: { docker } };
  return { ctx: ctx as unknown as AgentContext, said };
}

/** The book of an agent started again, whose journal says it asked for `asked` on each MacvlanNet, its pool `pool`. */
function restarted(asked: Record<string, string[]>) {
  const journal = new MemoryJournal();
  const before = new AddressBook(journal, () => {});
  for (const [mvn, ips] of Object.entries(asked)) {
    before.setPool(mvn, ['10.9.0.10'], { subnet: '10.9.0.0/24' });
    for (const ip of ips) before.ask(mvn, { ip }); // a --ip request in flight when the agent stopped
  }
  return { journal, book: new AddressBook(journal, () => {}) };
}

const network = (name: string, mvn: string): DockerNetwork => ({ id: `id-${name}`, name, driver: 'macvlan', subnet: '10.9.0.0/24', ipamDriver: PLUGIN, ipamOptions: { [MVN_OPTION]: mvn }, options: {}, labels: {}, containers: 0 });

describe('an address the journal says this node asked for by name, its MacvlanNet without a Docker network here', () => {
  it('is no longer asked for once the MacvlanNet\'s IPAM sync finds its network gone, and the log says so', async () => {
    const { book, journal } = restarted({ m: ['10.9.0.20'] });
    const { ctx, said } = agent(book);
    await syncDockerIpam(ctx, book, { metadata: { name: 'm' }, spec: { subnet: '10.9.0.0/24' } } as never, 'net');
    expect(book.report('m').requested).toEqual([]);
    expect(journal.state.nets.m.requested).toEqual([]);
    expect(said).toContainEqual(expect.objectContaining({ fields: expect.objectContaining({ macvlanNet: 'm', addresses: ['10.9.0.20'] }) }));
  });

  it('is no longer asked for after the agent\'s garbage pass, unless a request in flight waits for it; one whose network is here waits for its sync', async () => {
    const { book, journal } = restarted({ gone: ['10.9.0.20', '10.9.0.21'], here: ['10.9.0.30'] });
    book.ask('gone', { ip: '10.9.0.21' }); // a --ip request of this agent, waiting (its network went meanwhile)
    const { ctx, said } = agent(book, [network('mvn-here', 'here'), { ...network('users', 'gone'), ipamDriver: 'default' }]);
    await sweepUnservedAsks(ctx);
    expect(book.report('gone').requested).toEqual(['10.9.0.21']);
    expect(journal.state.nets.gone.requested).toEqual(['10.9.0.21']);
    expect(book.report('here').requested).toEqual(['10.9.0.30']);
    expect(said).toEqual([expect.objectContaining({ fields: expect.objectContaining({ macvlanNet: 'gone', addresses: ['10.9.0.20'] }) })]);
  });
});
