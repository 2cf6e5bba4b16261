// dockerIPAM xnet: why the controller does not grant an address a node's agent asked for by
// name (`docker run --ip`). Said in the node's part of the MacvlanNet status (refusedRequests),
// so the agent refuses the container at once, naming the holder, instead of after waiting out
// its request (20 s) with "was not granted". The agent itself knows only what every node reads
// (other nodes' pools and shims, external marks); a ContainerNic's address, one a NIC pins with
// spec.ip, or a Node's own address on the LAN only the controller sees. Every node reads the
// MacvlanNet's status, so a ContainerNic is named only to the node it is bound to; to another it
// is "a ContainerNic on node X": a node that lists addresses as asked for cannot map the names
// of other nodes' NICs (its credentials read no other node's index).
import type { Claim } from '../ipam/keys.js';
import { contains, type Interval } from '../ipam/ranges.js';

/** What the controller knows of one address of the pool. */
export interface AddressLookup {
  /** the pool's range: ipRange less exclude, gateway and Docker blocks */
  range: Interval[];
  claim(ip: number): Claim | undefined;
  /** the ContainerNic whose spec.ip pins it */
  pinnedBy(ip: number): string | undefined;
  /** the Node routed by it */
  nodeOf(ip: number): string | undefined;
  /** the node a ContainerNic is bound to (spec.node) */
  nicNode(name: string): string | undefined;
  /** why another node's pre-claim is not granted; undefined while that node is asked for it back (macvlan-give-back.ts) */
  otherPreClaim(ip: number, holder: string): string | undefined;
  /** the asking node holds MAX_NODE_PRECLAIMS already (this many: Ctx.maxNodePreClaims): a free address is refused too */
  full?: number;
}

/** A ContainerNic as a refusal to `node` names it: by name only to the node it is bound to. */
function nicAsSeenBy(name: string, node: string, l: AddressLookup): string {
  const on = l.nicNode(name);
  if (on === node) return `ContainerNic "${name}"`;
  return on === undefined ? 'a ContainerNic' : `a ContainerNic on node "${on}"`;
}

/** At most this many refusals per node part: the status every node reads stays small. */
export const MAX_REFUSED = 8;

/**
 * The most addresses one node may hold pre-claimed in one MacvlanNet (a /18): no refill and no
 * `requested` address takes it past this. Its part of the status lists each address, at most 18
 * bytes ("255.255.255.255", quoted, a comma): 16,384 x 18 = 294,912 bytes, plus its other fields
 * (MAX_REFUSED refusals of ~250 bytes, its message, giveBack: a few KiB) ~ 0.3 MB, a fifth of a
 * stock etcd request (1.5 MiB = 1,572,864 bytes): it fits one transaction beside the status and
 * the round's claims. A lying node asking by `requested` stops here (docs/security.md). What a
 * node held beyond it before is not taken away (macvlan-status-keys.ts skips a part too large).
 */
export const MAX_NODE_PRECLAIMS = 16_384;

/** Why a free address asked for by a node holding `max` (MAX_NODE_PRECLAIMS) already is not granted. */
export const preClaimBoundReason = (max = MAX_NODE_PRECLAIMS): string => `this node already holds ${max} pre-claimed addresses, the most one node may hold in a MacvlanNet`;

/** The bound of pre-claims a node holds: MAX_NODE_PRECLAIMS, or a test's lowered one (Ctx.maxNodePreClaims). */
export const maxPreClaims = (ctx: { maxNodePreClaims?: number }): number => ctx.maxNodePreClaims ?? MAX_NODE_PRECLAIMS;

/** How many more addresses a node holding `held` may pre-claim, `max` at most (Ctx.maxNodePreClaims, lowered in tests). */
export const preClaimRoom = (held: number, max = MAX_NODE_PRECLAIMS): number => Math.max(0, max - held);

/**
 * Why `ip` is never granted to `node` as things stand, or undefined when it may be (free now:
 * claimed in this round or the next, or a claim of this node's own). A free one, or another
 * node's pre-claim, is refused while the node holds MAX_NODE_PRECLAIMS (`full`).
 */
export function requestRefusal(ip: number, node: string, l: AddressLookup): string | undefined {
  if (!contains(l.range, ip)) return 'outside the MacvlanNet\'s range (ipRange less exclude, the gateway and Docker blocks)';
  const c = l.claim(ip);
  if (c) {
    if (c.owner.kind === 'ContainerNic') return `held by ${nicAsSeenBy(c.owner.name, node, l)}`;
    if (c.role === 'external') return `in use outside xnet (it answered an ARP probe of node "${c.node}")`;
    if (c.role === 'shim') return c.node === node ? 'this node\'s own host shim address' : `the host shim address of node "${c.node}"`;
    // a full node is not granted another node's pre-claim either: that node is not asked for it (macvlan-give-back.ts)
    if (c.role === 'node-pool' && c.node !== node) return l.full ? preClaimBoundReason(l.full) : l.otherPreClaim(ip, c.node ?? '');
  }
  const pin = l.pinnedBy(ip);
  if (pin) return `pinned by ${nicAsSeenBy(pin, node, l)} (spec.ip)`;
  const owner = l.nodeOf(ip);
  if (owner) return `the address of Node "${owner}"`;
  return l.full ? preClaimBoundReason(l.full) : undefined;
}

/** The node's requests refused, at most MAX_REFUSED, as its status part lists them. */
export function refusedRequests(asked: number[], node: string, l: AddressLookup, format: (ip: number) => string): Array<{ ip: string; reason: string }> {
  const out: Array<{ ip: string; reason: string }> = [];
  for (const ip of asked) {
    if (out.length >= MAX_REFUSED) break;
    const reason = requestRefusal(ip, node, l);
    if (reason) out.push({ ip: format(ip), reason });
  }
  return out;
}
