// A MacvlanNet's status written whole by a controller from before the split (one key holding
// every node's entry) while a node's part from a newer controller is still in its index: what
// a rolling upgrade of the controllers does when leadership passes back to an older one. The
// older leader frees and hands out addresses and writes only the status key; the part left in
// the index still lists the addresses it freed. Joined over the whole entry, the part would
// have that node's IPAM plugin hand out addresses claimed for nobody, or for another node. A
// whole entry (any field beyond what the split keeps in the status key) is read as it is.
// Real etcd; no controller (the keys are written as each controller writes them).
import { describe, expect, it } from 'vitest';
import { NodeView } from '../../pkg/store/node-view.js';
import { obj, macvlanEntryOf, useKeysFixture } from './controller-helpers.js';

const MVN = 'older';
const fx = useKeysFixture();

const entryOf = macvlanEntryOf;

describe('a status key written whole by an older controller after a newer one wrote the parts', () => {
  it("is read as it is: the node's entry there, not the part left in its index", async () => {
    await fx.store.applyAll([obj('MacvlanNet', MVN, { subnet: '10.86.0.0/24', gateway: '10.86.0.1', dockerIPAM: 'xnet' })]);
    const keys = fx.store.keys;
    // the newer controller: od-a's part in its index, the status key keeping only its shim
    await fx.put(keys.macvlanPart('od-a', MVN), { name: 'od-a', parent: 'eth0', shimAddress: '10.86.0.2', addresses: ['10.86.0.5', '10.86.0.6'], ready: true, message: 'ready' });
    await fx.put(keys.status('MacvlanNet', MVN, { controller: true }), { observedGeneration: 1, nodes: [{ name: 'od-a', shimAddress: '10.86.0.2' }] });
    expect(entryOf(await fx.store.get('MacvlanNet', MVN), 'od-a')?.addresses).toEqual(['10.86.0.5', '10.86.0.6']);
    // the older controller leads: it freed 10.86.0.6 and writes od-a's whole entry in the status key
    await fx.put(keys.status('MacvlanNet', MVN, { controller: true }), { observedGeneration: 1, nodes: [{ name: 'od-a', parent: 'eth0', shimAddress: '10.86.0.2', addresses: ['10.86.0.5'], ready: true, message: 'ready' }] });

    expect(entryOf(await fx.store.get('MacvlanNet', MVN), 'od-a')?.addresses).toEqual(['10.86.0.5']);
    const view = new NodeView(fx.etcd.client(), keys, 'od-a');
    try {
      await view.start();
      const m = (await view.list('MacvlanNet')).items.find((o) => o.metadata.name === MVN);
      expect(entryOf(m, 'od-a')?.addresses).toEqual(['10.86.0.5']);
    } finally { await view.close(); }
  }, 60_000);
});
