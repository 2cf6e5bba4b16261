// Review h80: the give-back reservation (macvlan-reserved.ts) is read once per planning pass on
// the pick path (passMemo, e9d7795), but a NIC that finds the pool used up is told who holds the
// range (nics.ts chooseAddress -> macvlanHoldersOf -> macvlanHolders), which calls
// reservedForRequests WITHOUT the round state: a pass over every Node (label match + report
// lookup) per NIC refused PoolExhausted. At 1,000 nodes, a burst of NICs on a used-up pool pays
// 1,000 Node visits each in one pass: O(nodes) per NIC.
import { describe, expect, it } from 'vitest';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { allocateNic } from '../../pkg/controller/nics.js';
import { PASS_MEMO } from '../../pkg/controller/pool-executor.js';
import { API_VERSION } from '../../pkg/api/index.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { guard, leaderKey, meta, modelFixture } from './model-fixture.js';

const NODES = 1000;
const NICS = 20;

describe('NICs refused PoolExhausted on a dockerIPAM xnet MacvlanNet, in one planning pass', () => {
  it('walk the Nodes for the reservation once per pass, not once per NIC', () => {
    const { model, seed, ctx } = modelFixture();
    for (let i = 0; i < NODES; i++) seed(model.keys.object('Node', `h-${i}`), { apiVersion: API_VERSION, kind: 'Node', metadata: meta(`h-${i}`), spec: {} });
    // a /30 range: .4 .. .7, all held by other NICs
    seed(model.keys.object('MacvlanNet', 'tiny'), { apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: meta('tiny'), spec: { subnet: '10.20.0.0/24', ipRange: '10.20.0.4/30', dockerIPAM: 'xnet' } });
    for (let a = 4; a <= 7; a++) {
      const ip = `10.20.0.${a}`;
      seed(model.keys.object('ContainerNic', `held-${a}`), { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta(`held-${a}`, { finalizers: ['xnet.io/address-in-use'] }), spec: { node: 'h-0', container: `c${a}`, ifName: 'eth1', network: { macvlanNet: 'tiny' } } });
      seed(model.ipam.claim('macvlannets', 'tiny', 'addresses', parseIPv4(ip)), { owner: { kind: 'ContainerNic', name: `held-${a}`, uid: `held-${a}-uid` }, role: 'nic', ip, node: 'h-0' });
    }
    for (let i = 0; i < NICS; i++) {
      seed(model.keys.object('ContainerNic', `w-${i}`), { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta(`w-${i}`, { finalizers: ['xnet.io/address-in-use'] }), spec: { node: 'h-1', container: `w${i}`, ifName: 'eth1', network: { macvlanNet: 'tiny' } } });
    }
    // count the Nodes the pass visits
    let visits = 0;
    const objects = model.objects.bind(model);
    (model as unknown as { objects: typeof model.objects }).objects = ((kind: string) => {
      const out = objects(kind as never);
      if (kind !== 'Node') return out;
      return (function* () { for (const o of out) { visits++; yield o; } })();
    }) as typeof model.objects;
    const state = new Map();
    state.delete(PASS_MEMO); // one planning pass, as PoolExecutor.planRound starts it
    for (let i = 0; i < NICS; i++) {
      expect(allocateNic(ctx, `w-${i}`, new TxnPlan(guard, leaderKey), state)).toMatchObject({ result: 'waiting', reason: 'PoolExhausted' });
    }
    // once per pass (the pick path's memo) would be NODES visits; per NIC it is NICS * NODES (or more)
    expect(visits).toBeLessThanOrEqual(2 * NODES);
  });
});
