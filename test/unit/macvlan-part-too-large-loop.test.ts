// A node part larger than what a transaction holds beside the status (a node holding ~120,000
// pre-claims on a pool larger than a /16; here a few thousand in a transaction of 40 KB:
// macvlan-big-node.ts), when its claims do not change, was put only "while room is left"
// (macvlan-status-keys.ts putParts): it never fitted, so every round said some part waits
// (deferred -> more, progress), and term.ts re-queued the MacvlanNet at once, for ever: a busy
// loop of plans and commits that never converged.
import { describe, expect, it } from 'vitest';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { TOO_MANY, bigNet } from './macvlan-big-node.js';

describe('an untouched node part larger than a transaction holds', () => {
  it('does not keep the round coming back at once for ever', async () => {
    const { ctx, cache, client, hold, plan } = bigNet(['big-holder', 'other']);
    hold('big-holder', TOO_MANY);
    let o: ReturnType<typeof planMacvlanNodes> | undefined;
    let round = 0;
    for (; round < 10; round++) {
      const p = plan();
      o = planMacvlanNodes(ctx, 'big', p, new Map());
      expect(await p.commit(client, cache)).toBe(true);
      if (!o.more) break;
    }
    expect(o!.more && o!.progress, `after ${round} rounds: more=${o!.more} progress=${o!.progress} (term.ts re-queues at once)`).toBe(false);
  });
});
