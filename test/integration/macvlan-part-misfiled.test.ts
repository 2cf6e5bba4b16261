// A MacvlanNet's node part is read from the index of the node it describes
// (store/macvlan-parts.ts): the agent of that node hands out the addresses it lists. A part in
// node A's index whose entry names node B (a restore of another node's key, a hand edit) lists
// B's pre-claims: read as A's, A's IPAM plugin would hand out addresses claimed for B. Such a
// part is untrusted input that does not decode: skipped and reported by every reader (xctl get,
// the agent's view, xctl ipam check), never joined. Real etcd; no controller (it would put A's
// own part back).
import { describe, expect, it } from 'vitest';
import { NodeView } from '../../pkg/store/node-view.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { obj, macvlanEntryOf, useKeysFixture } from './controller-helpers.js';

const MVN = 'misfiled';
const fx = useKeysFixture();

const entryOf = macvlanEntryOf;

describe("a MacvlanNet part in one node's index that names another node", () => {
  it('is skipped and reported by xctl get, the agent view and ipam check, and never read as that node s part', async () => {
    await fx.store.applyAll([obj('MacvlanNet', MVN, { subnet: '10.85.0.0/24', gateway: '10.85.0.1', dockerIPAM: 'xnet' })]);
    const keys = fx.store.keys;
    await fx.put(keys.status('MacvlanNet', MVN, { controller: true }), { observedGeneration: 1, nodes: [{ name: 'mf-a' }, { name: 'mf-b' }] });
    await fx.put(keys.macvlanPart('mf-b', MVN), { name: 'mf-b', addresses: ['10.85.0.7'], ready: true });
    const misfiled = keys.macvlanPart('mf-a', MVN);
    await fx.put(misfiled, { name: 'mf-b', addresses: ['10.85.0.7'], ready: true });

    const read = await fx.store.read('MacvlanNet', MVN);
    expect(entryOf(read.object, 'mf-a')?.addresses).toBeUndefined();
    expect(entryOf(read.object, 'mf-b')?.addresses).toEqual(['10.85.0.7']);
    expect(read.skipped.map((s) => s.key)).toEqual([misfiled]);

    const view = new NodeView(fx.etcd.client(), keys, 'mf-a');
    try {
      await view.start();
      const listed = await view.list('MacvlanNet');
      expect(entryOf(listed.items.find((o) => o.metadata.name === MVN), 'mf-a')?.addresses).toBeUndefined();
      expect((listed.skipped ?? []).map((s) => s.key)).toEqual([misfiled]);
    } finally { await view.close(); }

    const check = await ipamCheck(fx.etcd.client(), fx.prefix);
    expect(check.text).toContain(misfiled);
  }, 60_000);
});
