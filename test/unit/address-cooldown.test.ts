// The address cooldown's rule (pkg/controller/address-cooldown.ts): who waits it out after whose
// release. Pure: every taker after every release, but a node's pre-claim given back, pre-claimed
// again for a node (its IPAM plugin reuses an address at once anyway, and a starving node's
// request waits for exactly that); a ContainerNic waits even then. A deleted Node's pre-claim was
// given back by nobody (its containers may still use it): every taker waits.
import { describe, expect, it } from 'vitest';
import { coolsFor, type AddressTaker } from '../../pkg/controller/address-cooldown.js';
import type { ClaimRole } from '../../pkg/ipam/keys.js';

const TAKERS: AddressTaker[] = ['nic', 'shim', 'node-pool', 'docker-block'];
const RELEASED: ClaimRole[] = ['nic', 'shim', 'node-pool', 'external'];

describe('the address cooldown: who waits it out', () => {
  it('every taker after a ContainerNic\'s, a shim\'s or an external mark\'s release', () => {
    for (const role of RELEASED.filter((r) => r !== 'node-pool')) for (const taker of TAKERS) expect(coolsFor({ role }, taker), `${taker} after ${role}`).toBe(true);
  });

  it('after a pre-claim given back: a ContainerNic, a shim and a Docker block, not another pre-claim', () => {
    expect(TAKERS.filter((t) => coolsFor({ role: 'node-pool' }, t))).toEqual(['nic', 'shim', 'docker-block']);
  });

  it('after a pre-claim its deleted Node held: every taker, another pre-claim too', () => {
    expect(TAKERS.filter((t) => coolsFor({ role: 'node-pool', nodeGone: true }, t))).toEqual(TAKERS);
    expect(coolsFor({ role: 'node-pool', nodeGone: true, node: 'n1' }, 'node-pool', 'n2')).toBe(true);
  });

  it('after a pre-claim its deleted Node held, for that Node made again: not its refill, every other taker', () => {
    const released = { role: 'node-pool' as const, nodeGone: true, node: 'n1' };
    expect(TAKERS.filter((t) => coolsFor(released, t, 'n1'))).toEqual(['nic', 'shim', 'docker-block']);
  });
});
