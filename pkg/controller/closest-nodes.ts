// Which Node a name that no Node has was meant to be (suggest.ts: the closest Node names, a
// typo's likely fix), kept per name until a Node comes or goes. Every pass of an object naming
// a missing node says which Node was meant: 10,000 NICs applied for hosts whose agents have not
// joined, next to 1,000 Nodes, cost the leader some 10 s a pass of edit distances before.
import { closestAll } from '../api/suggest.js';

export class ClosestNodes {
  /** name no Node has -> the closest Node names, or none */
  private readonly memo = new Map<string, string[]>();

  constructor(private readonly nodeNames: () => string[]) {}

  /** The Node names closest to `name` (a typo of one of them), if any is close. */
  closest(name: string): string[] {
    const known = this.memo.get(name);
    if (known) return known;
    // names come from etcd: a bound, not a leak, whatever is written there
    if (this.memo.size >= 10_000) this.memo.clear();
    const best = closestAll(name, this.nodeNames());
    this.memo.set(name, best);
    return best;
  }

  /** A Node came or went: any answer may differ now. */
  forget(): void { this.memo.clear(); }
}
