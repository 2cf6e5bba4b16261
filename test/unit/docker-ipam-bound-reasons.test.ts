// Why a request without --ip gets no address within its bound, said as it happened. A user who
// reads "no free address ... is ipRange used up?" must be able to trust it: before, a pool whose
// addresses kept leaving while the request looked at them (the controller moving them between
// nodes) said so too, of a pool with room. Pure: an in-memory journal, probes that move the pool
// as the test says.
import { describe, expect, it } from 'vitest';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import type { XnetIpamError } from '../../pkg/dockeripam/errors.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('agent');
log.level = 'error';
const A = (i: number) => `10.9.0.${i}`;
const NET = { subnet: '10.9.0.0/24' };

/** The request's refusal (it must be refused). */
async function refusal(p: Promise<string>): Promise<XnetIpamError> {
  return p.then((got) => { throw new Error(`handed out ${got}`); }, (e: XnetIpamError) => e);
}

describe('xnet IPAM plugin: a request that ends at its bound without an address', () => {
  it('whose addresses all left the pool while looked at says the pool kept changing, not that it is used up', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    let next = 10;
    // every address leaves this node's pool during its probe, and the controller gives another
    const probe = async (mvn: string) => {
      await new Promise((r) => setTimeout(r, 10));
      book.setPool(mvn, [A(++next)], NET);
      return 'free' as const;
    };
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe, waitMs: 100 });
    book.setPool('m', [A(next)], NET);
    const e = await refusal(ipam.requestAddress({ PoolID: 'm' }));
    expect(e.reason).toBe('PoolChanging');
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/stayed in this node's pool.*left the pool or were taken while their ARP probe ran.*not used up: try again/);
    expect(e.message).not.toMatch(/no free address|ipRange/);
    expect(next - 10).toBeGreaterThan(1); // it kept looking at the ones that came
  });

  it('whose addresses were taken during their look says so too', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    let next = 10;
    // each is handed to a container by another way (a kept address lent, an adoption) while
    // looked at, and the controller refills
    const probe = async (mvn: string, ip: string) => {
      await new Promise((r) => setTimeout(r, 10));
      book.assign(mvn, ip);
      book.setPool(mvn, [...book.assigned(mvn).map((a) => a.ip), A(++next)], NET);
      return 'free' as const;
    };
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe, waitMs: 100 });
    book.setPool('m', [A(next)], NET);
    expect((await refusal(ipam.requestAddress({ PoolID: 'm' }))).reason).toBe('PoolChanging');
  });

  it('with nothing left in its pool says PoolExhausted', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe: async () => 'free' as const, waitMs: 50 });
    book.setPool('m', [], NET);
    const e = await refusal(ipam.requestAddress({ PoolID: 'm' }));
    expect(e.reason).toBe('PoolExhausted');
    expect(e.message).toMatch(/no free address on MacvlanNet m for this node \(the controller gave none in time; is ipRange used up\?/);
  });

  it('whose every address answered an ARP probe says PoolExhausted: none is left to hand out', async () => {
    const book = new AddressBook(new MemoryJournal(), () => {});
    const ipam = new NodeIpam({ book, log, otherHolder: () => undefined, probe: async () => 'answered' as const, waitMs: 50 });
    book.setPool('m', [A(10), A(11)], NET);
    expect((await refusal(ipam.requestAddress({ PoolID: 'm' }))).reason).toBe('PoolExhausted');
    expect(book.report('m').external).toEqual([A(10), A(11)]);
  });
});
