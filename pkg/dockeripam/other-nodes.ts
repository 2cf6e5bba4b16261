// What a node's plugin reads of the other nodes in its MacvlanNet's status (every node reads it),
// for its answers to `docker run --ip`: who holds an address for good (refused at once), and
// which node the controller asks to give one back (status.nodes[].giveBack: ./give-back.ts).
// Pure; the status is untrusted and read as such: what is not a list is no list.

type Part = { name?: unknown; addresses?: unknown; outsideRange?: unknown; shimAddress?: unknown; giveBack?: unknown };

const listed = (list: unknown, ip: string) => Array.isArray(list) && list.includes(ip);

function otherParts(status: unknown, self: string): Part[] {
  const nodes = (status as { nodes?: unknown } | undefined)?.nodes;
  return Array.isArray(nodes) ? nodes.filter((n): n is Part => !!n && typeof n === 'object' && (n as Part).name !== self) : [];
}

/**
 * Who else holds ip on the MacvlanNet: a host outside xnet, another node's shim, its containers
 * outside the range since an edit, and with `preClaims` its pre-claimed addresses (in use there
 * or at hand) where the status lists them (a controller that keeps each node's part in that
 * node's index, store/macvlan-parts.ts, lists none of another node's). The plugin refuses at once only what is held for good (`preClaims` false) and
 * asks the controller for another node's pre-claim: only the controller reads that node's report,
 * so it alone tells one in use there (refused, naming the node) from an idle one (asked back).
 */
export function otherHolderIn(status: unknown, self: string, ip: string, preClaims: boolean): string | undefined {
  if (listed((status as { external?: unknown } | undefined)?.external, ip)) return 'a host outside xnet (it answered an ARP probe)';
  for (const n of otherParts(status, self)) {
    if (preClaims && listed(n.addresses, ip)) return `node ${String(n.name)} (pre-claimed for its containers, in use or at hand)`;
    if (listed(n.outsideRange, ip)) return `node ${String(n.name)} (in use by its containers, outside the range since an edit)`;
    if (n.shimAddress === ip) return `the host shim of node ${String(n.name)}`;
  }
  return undefined;
}

/** The node the controller asks to give ip back (status.nodes[].giveBack), if any. */
export function askedBackFrom(status: unknown, self: string, ip: string): string | undefined {
  const n = otherParts(status, self).find((p) => listed(p.giveBack, ip));
  return n && String(n.name);
}

/**
 * Why an --ip request ends at its deadline while the controller still asks `node` to give the
 * address back: that node's agent did not answer (one older than giveBack ignores the ask).
 */
export function notGivenBackWhy(node: string, waitMs: number): string {
  return `an idle pre-claim of node ${node}, asked back for this node: it was not given back within ${waitMs} ms (is that node's agent older than status.nodes[].giveBack?)`;
}
