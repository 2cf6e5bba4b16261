// A MacvlanNet's node part kept in a node's index (store/macvlan-parts.ts) goes when the node
// leaves the MacvlanNet, and every part and the pool counts go with the MacvlanNet: a part left
// behind would be read by that node's agent again if the MacvlanNet came back under its name
// (readers ignore a part of a node the status key does not list, but the key would stay for
// ever in the node's index). Real etcd and controller; each node's agent is its report.
import { describe, expect, it } from 'vitest';
import { useMacvlanParts } from './macvlan-parts.js';
import { eventually, obj } from './controller-helpers.js';

const fx = useMacvlanParts();
const MVN = 'stale';

/** The keys of MacvlanNet parts and pool counts stored under the prefix, of any node. */
async function partKeys(): Promise<string[]> {
  const keys = fx.store.keys;
  const index = await fx.etcd.client().getAll().prefix(keys.nodeIndexRoot()).keys();
  const pools = await fx.etcd.client().getAll().prefix(keys.macvlanPools()).keys();
  return [...index.filter((k) => keys.parseMacvlanPart(k)?.name === MVN), ...pools.filter((k) => keys.parseMacvlanPool(k) === MVN)].sort();
}

describe("a MacvlanNet's node parts", () => {
  it('go from the index of a node that left it, and all of them with the MacvlanNet', async () => {
    const keys = fx.store.keys;
    await fx.segment(MVN, { subnet: '10.83.0.0/24', gateway: '10.83.0.1', dockerIPAM: 'xnet', hostShim: true }, 'st', ['st-a', 'st-b']);
    await fx.firstAtHand(MVN, 'st-a');
    await fx.firstAtHand(MVN, 'st-b');
    expect(await partKeys()).toEqual([keys.macvlanPart('st-a', MVN), keys.macvlanPart('st-b', MVN), keys.macvlanPool(MVN)].sort());

    // st-b leaves; its agent takes the network off the host (its report goes)
    await fx.store.applyAll([obj('Node', 'st-b', { interface: 'eth0' }, { st: 'no' })]);
    await fx.partSays(MVN, 'st-b', 'no longer selected: kept until its agent has taken the network off the host (containers there still use it)');
    await fx.store.deleteStatus('MacvlanNet', MVN, { node: 'st-b' });
    await eventually(async () => !(await partKeys()).includes(keys.macvlanPart('st-b', MVN)), "st-b's part deleted from its index");
    expect((await fx.parts(MVN)).map((p) => p.name)).toEqual(['st-a']);

    // the MacvlanNet is deleted; st-a's agent takes its network off
    await fx.store.delete('MacvlanNet', MVN);
    await fx.store.deleteStatus('MacvlanNet', MVN, { node: 'st-a' });
    await eventually(async () => !(await fx.store.get('MacvlanNet', MVN)), 'the MacvlanNet gone');
    expect(await partKeys()).toEqual([]);
    await fx.expectClean();
  }, 120_000);
});
