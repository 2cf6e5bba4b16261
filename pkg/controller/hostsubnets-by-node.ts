// The HostSubnets of each node, by ClusterNetwork, indexed as the controller's cache changes
// (model.ts files each HostSubnet's change here). Every HostSubnet's bridge is checked against
// its node's others, so a term start at 1,000 nodes asks this 2,000 times: a scan of every
// node's entries made that quadratic.
import type { HostSubnet } from '../api/index.js';

export class HostSubnetsByNode {
  /** node -> ClusterNetwork -> HostSubnet names */
  private readonly byNode = new Map<string, Map<string, Set<string>>>();

  /** A HostSubnet went from `before` to `after` (either missing: made, or gone). */
  file(name: string, before: HostSubnet | undefined, after: HostSubnet | undefined): void {
    if (before) this.unfile(before, name);
    if (after) {
      const { node, clusterNetwork } = after.spec;
      const byCn = this.byNode.get(node) ?? this.byNode.set(node, new Map()).get(node)!;
      (byCn.get(clusterNetwork) ?? byCn.set(clusterNetwork, new Set()).get(clusterNetwork)!).add(name);
    }
  }

  private unfile(hs: HostSubnet, name: string): void {
    const byCn = this.byNode.get(hs.spec.node);
    const s = byCn?.get(hs.spec.clusterNetwork);
    if (!byCn || !s) return;
    s.delete(name);
    if (s.size === 0) byCn.delete(hs.spec.clusterNetwork);
    if (byCn.size === 0) this.byNode.delete(hs.spec.node);
  }

  /** The names of the node's HostSubnets of `clusterNetwork`. */
  of(clusterNetwork: string, node: string): ReadonlySet<string> | undefined { return this.byNode.get(node)?.get(clusterNetwork); }

  /** The names of the node's HostSubnets, one set per ClusterNetwork. */
  onNode(node: string): Iterable<ReadonlySet<string>> { return this.byNode.get(node)?.values() ?? []; }
}
