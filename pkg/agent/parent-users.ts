// Who uses the parent interfaces of macvlans on this node, from the stored objects: the release
// of parents (reconcilers/parents.ts) undoes what xnet did to a parent only when none does.
// Pure: the caches come in, the users go out.
import type { ContainerNic, MacvlanNet, Node } from '../api/index.js';
import { isDeleting, macvlanParent, selects } from './desired.js';
import type { ParentUser } from './planner/parents.js';

export interface ParentUsersInput {
  node: string;
  self: Node | undefined;
  macvlanNets: MacvlanNet[];
  /** the ContainerNics in the cache (this node's are picked out) */
  nics: ContainerNic[];
  /** names whose key does not decode, by kind */
  unreadable: { macvlanNets: Set<string>; nodes: Set<string>; nics: Set<string> };
}

/**
 * The parents in use: of every MacvlanNet that selects this node, and of every macvlan
 * ContainerNic of this node, whatever its MacvlanNet selects (the NIC's link sits on that
 * parent in its container until the NIC goes; taking the parent down would cut it off). Each
 * says whether it wants the parent promiscuous (its MacvlanNet's spec.promiscuous).
 * undefined (in doubt: nothing is released) when a parent is unknown: a MacvlanNet's or a
 * NIC's (its MacvlanNet is gone, so the parent its link sits on is not known), the Node's
 * interface not reported yet, or a MacvlanNet's, this Node's or a ContainerNic's key does not
 * decode (its parent, labels or network are unknown).
 */
export function parentUsers(i: ParentUsersInput): ParentUser[] | undefined {
  const u = i.unreadable;
  if (!i.self || u.macvlanNets.size || u.nodes.has(i.node) || u.nics.size) return undefined;
  const byName = new Map(i.macvlanNets.map((m) => [m.metadata.name, m]));
  const using = new Set(i.macvlanNets.filter((m) => !isDeleting(m) && selects(m.spec.nodeSelector, i.self)).map((m) => m.metadata.name));
  for (const n of i.nics) {
    const net = n.spec.network.macvlanNet;
    if (n.spec.node !== i.node || isDeleting(n) || !net) continue;
    if (!byName.has(net)) return undefined;
    using.add(net);
  }
  const out: ParentUser[] = [];
  for (const name of using) {
    const m = byName.get(name)!;
    const parent = macvlanParent(m, i.self, i.node);
    if (!parent) return undefined;
    out.push({ parent, ...(m.spec.vlan ? { vlan: m.spec.vlan } : {}), promiscuous: m.spec.promiscuous ?? true });
  }
  return out;
}

/** Whether each MacvlanNet in the caches wants its parent promiscuous: its Docker network's wish. */
export function promiscuousWishes(macvlanNets: MacvlanNet[]): Map<string, boolean> {
  return new Map(macvlanNets.map((m) => [m.metadata.name, m.spec.promiscuous ?? true]));
}
