// A node's part is put with every change of its claims, so the round keeps room for it as large
// as it is (macvlan-round.ts fitsFor). A claim the round frees while it sorts the claims (one
// an edit left outside the range, its node's report not listing it in use) had that room
// counted then, from the node's addresses sorted so far: the node's lowest address, sorted
// first, counted a part of none, and the rest of the part (4,000 addresses, ~60 KB) went into
// the transaction all the same. Counted whole, that release fits no transaction: it is not
// retried round after round (the part is skipped, as a too-large one is). Lowered bounds:
// macvlan-big-node.ts.
import { describe, expect, it } from 'vitest';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { LOW_BYTES, TOO_MANY, addr, bigNet } from './macvlan-big-node.js';

describe('a claim freed while the round sorts the claims', () => {
  it('counts its node\'s whole part: no transaction over the limit', () => {
    // the edit excludes big-holder's lowest pre-claim, which no container uses
    const { ctx, hold, plan } = bigNet(['big-holder', 'other'], { exclude: [`${addr(0)}/32`] });
    hold('big-holder', TOO_MANY);
    const p = plan();
    const o = planMacvlanNodes(ctx, 'big', p, new Map());
    expect(p.size.bytes, `planned ${p.size.ops} ops, ${p.size.bytes} bytes`).toBeLessThanOrEqual(LOW_BYTES);
    // and no next transaction would hold it either: the round does not come back for it
    expect(o.more, 'more').toBe(false);
  });
});
