// dockerIPAM xnet: the ContainerNics of a MacvlanNet that wait for an address from its range.
// A declared NIC comes before an idle pre-claim (an address held at hand for a container that
// may never come: a cache, not a commitment). Before, a small pool whose free addresses the
// nodes' refills had taken refused such NICs PoolExhausted for as long as the pre-claims stayed
// idle (the lab: `lan` shrunk to a /28, both NICs lost their interfaces while host-1 and
// host-2 held 13 idle). So the round counts them (macvlan-fair.ts): the nodes' refills leave
// them what is free, and the nodes holding idle pre-claims are asked (maxFree) to give back
// what they lack; the controller never takes one itself (docs/design.md, "A small pool").
import type { ContainerNic } from '../api/index.js';
import { contains } from '../ipam/ranges.js';
import type { RoundState } from './pool-executor.js';
import type { MvnRound } from './macvlan-round.js';
import { roundPool } from './nics.js';
import type { Ctx } from './context.js';
import { waitsForItsNode } from './nic-node-gate.js';
import { oldAddressHeldWhy } from './nic-old-address.js';

/**
 * How many of the MacvlanNet's ContainerNics wait for an address its range has to give: not
 * being deleted, no spec.ip (a pinned address is held back from the nodes already), no claim
 * inside the range, none picked for it in the rounds in flight, its Node there (nic-node-gate.ts).
 * A scan of the NICs: asked only of a small pool (fairRound), where it matters.
 */
export function nicsWaiting(ctx: Ctx, r: MvnRound, state: RoundState): number {
  const picked = new Set(roundPool(state, `macvlannets/${r.name}`).nicOf?.values() ?? []);
  let n = 0;
  for (const { obj } of ctx.model.objects<ContainerNic>('ContainerNic')) {
    const uid = obj.metadata.uid;
    if (obj.spec.network?.macvlanNet !== r.name || obj.spec.ip || obj.metadata.deletionTimestamp || !uid || picked.has(uid)) continue;
    const mine = ctx.model.claimsOf(uid).filter((c) => c.key.startsWith(r.addrSpace));
    // an address another node still reports it with is not its (nic-old-address.ts: it takes another)
    if (mine.some((c) => contains(r.addrRange, c.ip) && (c.claim.node === obj.spec.node || !oldAddressHeldWhy(ctx, obj, c)))) continue;
    // its spec.node names no Node: it takes no address until one does, so the nodes keep theirs
    if (waitsForItsNode(ctx.model, obj, () => mine.length > 0)) continue;
    n++;
  }
  return n;
}
