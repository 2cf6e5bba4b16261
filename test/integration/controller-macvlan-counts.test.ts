// A MacvlanNet's status.allocated and status.free count every address claimed in its pool, the
// ContainerNics' among them. A NIC's allocation queued the MacvlanNet (its counts followed);
// its release did not: a NIC deleted, or moved off the network, left allocated one too high and
// free one too low until something else happened to reconcile the MacvlanNet (a node's report
// on it: with dockerIPAM blocks, or no node selected, possibly never).
// The released addresses cool down (--address-cooldown) before anyone gets them again: counted
// in status.cooling, not in free, meanwhile (controller-macvlan-cooling-free.test.ts).
// Real etcd, an in-process controller, no node selected (nothing else queues the MacvlanNet).
import { describe, expect, it } from 'vitest';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const fx = useControllerFixture(uniquePrefix());

const counts = async () => {
  const s = statusOf(await fx.store.get('MacvlanNet', 'lan'));
  return { allocated: s.allocated as number, free: s.free as number, cooling: s.cooling as number | undefined };
};

describe('a MacvlanNet\'s counts after a ContainerNic on it goes', () => {
  it('come back down when the NIC is deleted and when one moves to another network', async () => {
    await fx.store.applyAll([
      obj('MacvlanNet', 'lan', { subnet: '10.93.0.0/24', ipRange: '10.93.0.128/25', dockerIPAM: 'blocks', nodeSelector: { matchLabels: { rack: 'none' } } }),
      obj('MacvlanNet', 'other', { subnet: '10.94.0.0/24', dockerIPAM: 'blocks', nodeSelector: { matchLabels: { rack: 'none' } } }),
    ]);
    const empty = await eventually(async () => { const c = await counts(); return c.free !== undefined ? c : undefined; }, 'lan counted');
    expect(empty.allocated).toBe(0);
    await fx.store.applyAll([
      // its Node exists (a NIC on a node no Node has gets no address), not selected by the networks
      obj('Node', 'h1', {}),
      obj('ContainerNic', 'a', { node: 'h1', container: 'a', ifName: 'eth1', network: { macvlanNet: 'lan' } }),
      obj('ContainerNic', 'b', { node: 'h1', container: 'b', ifName: 'eth1', network: { macvlanNet: 'lan' } }),
    ]);
    await eventually(async () => (await counts()).allocated === 2, 'lan counts the two NICs', 10_000);
    // no agent of h1 reported on the NIC: nobody holds the address, so the delete releases it at once
    await fx.store.delete('ContainerNic', 'a');
    await eventually(async () => !(await fx.store.get('ContainerNic', 'a')), 'a gone');
    await eventually(async () => (await counts()).allocated === 1, 'lan counts one NIC after the delete', 10_000);
    await fx.store.applyAll([obj('ContainerNic', 'b', { node: 'h1', container: 'b', ifName: 'eth1', network: { macvlanNet: 'other' } })]);
    await eventually(async () => (await counts()).allocated === 0, 'lan counts none after b moved to another network', 10_000);
    const after = await counts();
    expect(after.allocated).toBe(0);
    expect(after.free + (after.cooling ?? 0)).toBe(empty.free);
  });
});
