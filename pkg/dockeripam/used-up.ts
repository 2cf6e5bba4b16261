// dockerIPAM xnet: a pool used up everywhere. A request without --ip on a node with no address
// at hand waits up to 20 s for the controller to refill the node, taking back, if need be, idle
// pre-claims of other nodes (./fair-share.ts). Found in a Docker user's trial: with every
// address held (shims, ContainerNics, containers) and none idle on any node, `docker run` still
// waited its 20 s and then failed, as the plugin could not tell "nothing to give back" from
// "being rebalanced". The controller, which sees every node, decides (the rule below), marks the
// node's part (status.nodes[].usedUp) and says why once in the MacvlanNet's status
// (status.poolUsedUp); the node's plugin refuses at once with it.
import { XnetIpamError } from './errors.js';
import { firstFew } from '../first-few.js';

/** Kept addresses named in a refusal; the rest are counted. */
const MAX_KEPT_NAMED = 5;

/** The pool as a round of the controller leaves it, for the rule below. */
export interface PoolAtRest {
  /** addresses of the range no one holds once the round has committed */
  free: number;
  /** the round frees claims (a node's returned addresses, a node gone): they are free in the next (the controller also holds the word while a claim of the range is on its way out: ../controller/macvlan-freeing.ts) */
  freeing: boolean;
  /** each selected node's idle pre-claims once the round has committed (all it holds, while its agent does not report) */
  idle: readonly number[];
  /** addresses of the range free but still cooling down after their release (../controller/address-cooldown.ts): they come back by themselves */
  cooling?: boolean;
}

/**
 * Whether nothing can come to a node with no address at hand within its request's bound:
 * nothing free, nothing cooling down, nothing being freed, nothing idle on any node to ask back. An idle pre-claim
 * anywhere, even one the fair share leaves where it is, and the request waits as before: the
 * pool is not used up, and the user would be told to free an address that is free.
 */
export function poolUsedUp(p: PoolAtRest): boolean {
  return p.free === 0 && !p.cooling && !p.freeing && p.idle.every((n) => n === 0);
}

/**
 * What the node's part says of a used-up pool: how many addresses, who holds them, and what
 * frees one. `range` names the range (e.g. `MacvlanNet "tiny"'s range (...)`), `held` its
 * holders (`held by 3 host shims, ...`), both from the controller's count of the claims.
 */
export function usedUpReason(poolSize: number, range: string, held: string): string {
  const all = poolSize === 1 ? `the one address of ${range} is taken` : `all ${poolSize} addresses of ${range} are taken`;
  return `${all}${held ? `, ${held},` : ''} and none is idle on any node to give back; `
    + 'free one (docker rm a container on any node; a stopped one keeps its address until removed) or widen spec.ipRange';
}

/**
 * The plugin's refusal of a request without --ip, with the controller's reason and the
 * addresses this node keeps for stopped containers (the controller counts them in use).
 */
export function usedUpError(mvn: string, reason: string, kept: readonly string[]): XnetIpamError {
  const here = kept.length ? `; kept on this node for stopped containers: ${firstFew(kept, MAX_KEPT_NAMED)}` : '';
  return new XnetIpamError('PoolExhausted', `MacvlanNet ${mvn} is used up (no free address for this container, none to come): ${reason}${here}`);
}
