// A MacvlanNet round's takers that find only addresses still cooling down after their release
// (the rule: address-cooldown.ts): a node's host shim, its Docker block (dockerIPAM blocks) or its
// refill of pre-claimed addresses. Each waits, the node's part says so, and the round is looked
// at again once the first has cooled (term.ts): nothing else happens then to wake it, a round
// waiting for a shim or block backs off up to 30 s, and one with a starving node is not retried.
import { nextFreeMacvlanBlocks } from '../ipam/plan.js';
import type { Cidr } from '../ip/ipv4.js';
import { clipNodeMessage } from '../api/node-message.js';
import { monotonicMs } from '../runtime/clock.js';
import { releasedLately } from './address-cooldown.js';
import type { MvnRound } from './macvlan-round.js';
import type { Ctx } from './context.js';

/** What of a node's part waits for addresses to cool down. */
type Waiting = 'shim' | 'block' | 'refill';

/** Records that the node's `what` found only cooling addresses, the first free at `until` (none: nothing to record). */
export function waitsCooling(r: MvnRound, node: string, what: Waiting, until: number | undefined): void {
  if (until !== undefined) r.coolingWaits.set(`${node}/${what}`, until);
}

/**
 * dockerIPAM blocks: the next free block holding no address cooling down. Skipped rather than
 * given: the node's Docker hands out its block's addresses lowest first, with no cooldown, so
 * its first container would take the cooling one. When only such blocks are free the node
 * waits for them (recorded); when none is, the pool is full, said as before.
 */
export function freeBlock(r: MvnRound, node: string): Cidr | undefined {
  let soonest: number | undefined;
  const takenOrCooling = {
    has: (ip: number) => {
      if (r.takenAddrs.has(ip)) return true;
      const until = r.cooling(ip, 'docker-block');
      if (until !== undefined) soonest = Math.min(soonest ?? until, until);
      return until !== undefined;
    },
  };
  const [b] = nextFreeMacvlanBlocks(r.m.spec, r.takenBlocks, takenOrCooling, 1);
  if (!b && soonest !== undefined && nextFreeMacvlanBlocks(r.m.spec, r.takenBlocks, r.takenAddrs, 1).length) waitsCooling(r, node, 'block', soonest);
  return b;
}

/** Why the node's shim, block or refill waits for addresses to cool down, or undefined: it does not. */
export function coolingWhy(ctx: Pick<Ctx, 'addressCooldownMs'>, r: MvnRound, node: string, what: Waiting): string | undefined {
  const until = r.coolingWaits.get(`${node}/${what}`);
  if (until === undefined) return undefined;
  const lately = releasedLately(ctx.addressCooldownMs, until);
  const why = what === 'block' ? `no /${r.m.spec.blockPrefix} block for Docker yet: every free one holds an address ${lately}`
    : `no address ${what === 'shim' ? 'for the host shim' : 'at hand for its containers'} yet: every free address in the range was ${lately}`;
  return clipNodeMessage(why);
}

/** For the round's outcome: when to look at it again, once the first address a taker waits for has cooled (1 ms after: it has, then). */
export function coolingOutcome(r: MvnRound): { coolingMs?: number } {
  if (!r.coolingWaits.size) return {};
  let first = Infinity;
  for (const until of r.coolingWaits.values()) first = Math.min(first, until);
  return { coolingMs: Math.max(0, Math.ceil(first - monotonicMs())) + 1 };
}
