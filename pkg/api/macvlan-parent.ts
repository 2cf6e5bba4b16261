// Which interface a MacvlanNet's macvlans hang off on one node: decided here once, for the
// controller's status (nodes[].parent) and the agent that makes the links.

/** Precedence: the per-node override, then the network's parent, then the node's interface. */
export function macvlanBaseParent(
  spec: { parent?: string; nodes?: Array<{ name: string; parent?: string }> }, node: string, nodeInterface: string | undefined,
): string | undefined {
  return spec.nodes?.find((n) => n.name === node)?.parent ?? spec.parent ?? nodeInterface;
}

/** The interface macvlans attach to: `<parent>.<vlan>` when a VLAN is set. */
export function withVlan(parent: string, vlan: number | undefined): string {
  return vlan ? `${parent}.${vlan}` : parent;
}
