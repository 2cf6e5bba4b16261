// The address cooldown's rule (pkg/controller/address-cooldown.ts): who waits it out after whose
// release. Pure: every taker after every release, but a node's pre-claim given back, pre-claimed
// again for a node (its IPAM plugin reuses an address at once anyway, and a starving node's
// request waits for exactly that); a ContainerNic waits even then.
import { describe, expect, it } from 'vitest';
import { coolsFor, type AddressTaker } from '../../pkg/controller/address-cooldown.js';
import type { ClaimRole } from '../../pkg/ipam/keys.js';

const TAKERS: AddressTaker[] = ['nic', 'shim', 'node-pool', 'docker-block'];
const RELEASED: ClaimRole[] = ['nic', 'shim', 'node-pool', 'external'];

describe('the address cooldown: who waits it out', () => {
  it('every taker after a ContainerNic\'s, a shim\'s or an external mark\'s release', () => {
    for (const released of RELEASED.filter((r) => r !== 'node-pool')) for (const taker of TAKERS) expect(coolsFor(released, taker), `${taker} after ${released}`).toBe(true);
  });

  it('after a pre-claim given back: a ContainerNic, a shim and a Docker block, not another pre-claim', () => {
    expect(TAKERS.filter((t) => coolsFor('node-pool', t))).toEqual(['nic', 'shim', 'docker-block']);
  });
});
