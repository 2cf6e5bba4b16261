// A MacvlanNet whose nodes' parts (store/macvlan-parts.ts) are more than one transaction can
// delete is still deleted: its last transaction would hold the MacvlanNet's delete, its status
// key's, its pool counts' and every part's, and etcd refuses a transaction of more than
// --max-txn-ops operations, every time (the MacvlanNet would stay deleting for ever). Real etcd
// and controller, run with a small --max-txn-ops so that a few nodes are "many".
import { describe, expect, it } from 'vitest';
import { useMacvlanParts } from './macvlan-parts.js';
import { eventually } from './controller-helpers.js';

const MAX_TXN_OPS = 12;
const fx = useMacvlanParts({ maxTxnOps: MAX_TXN_OPS });
const MVN = 'wide';
const NODES = Array.from({ length: 16 }, (_, i) => `wd-${String(i).padStart(2, '0')}`);

async function partKeys(): Promise<string[]> {
  const keys = fx.store.keys;
  const index = await fx.etcd.client().getAll().prefix(keys.nodeIndexRoot()).keys();
  return index.filter((k) => keys.parseMacvlanPart(k)?.name === MVN);
}

describe('a MacvlanNet with more node parts than one transaction can delete', () => {
  it('is deleted, and every part with it', async () => {
    // no shim and no agent: the nodes hold no claim, only their parts (waiting for their agents)
    await fx.segment(MVN, { subnet: '10.84.0.0/24', gateway: '10.84.0.1', dockerIPAM: 'xnet', hostShim: false }, 'wd', NODES);
    await eventually(async () => (await partKeys()).length === NODES.length, 'every node has its part');
    expect(NODES.length + 3).toBeGreaterThan(MAX_TXN_OPS);

    await fx.store.delete('MacvlanNet', MVN);
    await eventually(async () => !(await fx.store.get('MacvlanNet', MVN)), 'the MacvlanNet gone');
    expect(await partKeys()).toEqual([]);
    await fx.expectClean();
  }, 120_000);
});
