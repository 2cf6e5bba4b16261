// The address peers route to is the controller's to decide. A node's agent reports what it
// detected, under keys its own credentials can write; the controller takes that value only
// after checking it (../api/rules.ts nodeAddressWhy): a unicast IPv4 address, none that a
// pool of xnet hands out, not another Node's. A refused address is named on the Node's
// AddressAccepted condition and the last accepted one stays in use, unless an admin has made
// it another Node's spec.address since (a pin always wins).
import type { ClusterNetwork, MacvlanNet, Node } from '../api/index.js';
import { clusterNetworkPool, macvlanNetPool, nodeAddressInPoolWhy, nodeAddressWhy, type AddressPool } from '../api/rules.js';
import type { Ctx } from './context.js';

export interface AddressVerdict {
  /** the address to use: the admin's spec, else the reported one when it passed, else the last accepted */
  address?: string;
  /** why the reported address was refused */
  refused?: string;
  /** the refused address is the one peers still route via (a pool came over it after it was accepted) */
  stillRouted?: boolean;
}

function pools(ctx: Ctx): AddressPool[] {
  const out: AddressPool[] = [];
  for (const c of ctx.model.objects<ClusterNetwork>('ClusterNetwork')) out.push(clusterNetworkPool(c.obj.metadata.name, c.obj.spec.cidr));
  for (const m of ctx.model.objects<MacvlanNet>('MacvlanNet')) { const p = macvlanNetPool(m.obj.metadata.name, m.obj.spec); if (p) out.push(p); }
  return out;
}

function otherAddresses(ctx: Ctx, self: string): Array<{ node: string; address?: string }> {
  const out: Array<{ node: string; address?: string }> = [];
  for (const n of ctx.model.objects<Node>('Node')) {
    const name = n.obj.metadata.name;
    if (name === self) continue;
    out.push({ node: name, address: n.obj.spec?.address ?? ctx.model.controllerStatus('Node', name)?.status.address });
  }
  return out;
}

/**
 * Checks `reported` for `node`; `accepted` is the address the controller accepted before. An
 * admin's spec.address on another Node takes an accepted address away (a node that reported
 * it first, a squatter, loses it), as it would refuse it if it were reported now.
 */
export function judgeNodeAddress(ctx: Ctx, node: string, reported: unknown, accepted: string | undefined): AddressVerdict {
  const spec = ctx.model.node(node)?.obj.spec?.address;
  if (spec) return { address: spec };
  // Another Node has it: pinned by an admin, or (a race of two reports checked in one round)
  // accepted too, when the first by name keeps it.
  const other = accepted === undefined ? undefined
    : ctx.model.pinnedBy(accepted, node) ?? ctx.model.nodesAccepting(accepted).filter((n) => n < node).sort()[0];
  const kept = other ? {} : accepted ? { address: accepted } : {};
  const all = pools(ctx);
  // The same address as before needs no full check: only whether another Node or a pool has it now.
  if (reported === undefined || reported === accepted) {
    if (other) return { refused: `${accepted} is already the address of Node "${other}"` };
    // A pool that came after the address was accepted (written around xctl, which refuses it,
    // or stored before xctl checked reported addresses) is named, but does not cut the node
    // off: peers keep routing via the address until the pool or the address changes.
    const inPool = accepted === undefined ? undefined : nodeAddressInPoolWhy(accepted, all);
    return inPool ? { ...kept, refused: `${inPool}; accepted before that pool held it, so peers still route via it: exclude it from the pool (or move the pool)`, stillRouted: kept.address === accepted } : kept;
  }
  const refused = nodeAddressWhy(node, reported, all, otherAddresses(ctx, node));
  if (refused) return { ...kept, refused };
  return { address: reported as string };
}

/** Where peers reach `node`: the admin's spec.address, else the reported address once checked. */
export function nodeAddress(ctx: Ctx, node: string): string | undefined {
  const reported = ctx.model.nodeStatus(node, 'Node', node)?.address;
  const accepted = ctx.model.controllerStatus('Node', node)?.status.address;
  return judgeNodeAddress(ctx, node, reported, accepted).address;
}
