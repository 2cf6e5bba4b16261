// dockerIPAM xnet: an address another node asked for by name (`docker run --ip`) that this node
// holds as a pre-claim. The controller never takes a pre-claim itself (this node's plugin may be
// handing it out this instant), so it asks for it back by name in this node's part
// (status.nodes[].giveBack), as it asks for a count with maxFree; this node decides, since only
// it knows whether a container holds the address: free here, it is given back like any surplus
// (listed in the report's `returned`, never handed out here again); in use (or kept for a stopped
// container), it stays, and the report that lists it in use is the controller's answer.
import { byAddress } from '../ip/ipv4.js';
import { surplusOf } from './report.js';

/**
 * What this node gives back now of its free addresses (lowest first, none in use, returned,
 * external or awaited by its own --ip request): the surplus above the controller's limit
 * (./report.ts surplusOf) and each address asked back by name. Surplus only with a limit:
 * without one, a node may hold more than HIGH_WATER free for a moment (a refill for waiting
 * requests) and gives back only when idle (AddressBook.drop).
 */
export function givenBack(free: readonly string[], limit: number | undefined, asked: readonly string[] = []): string[] {
  const out = new Set(limit === undefined ? [] : surplusOf(free, limit));
  const isFree = new Set(free);
  for (const ip of asked) if (isFree.has(ip)) out.add(ip);
  return [...out].sort(byAddress);
}
