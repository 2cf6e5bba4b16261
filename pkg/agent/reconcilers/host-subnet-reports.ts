// This node's reports on HostSubnets no longer on it (deleted, or bound to another node). Each
// stays while xnet's Docker network of that HostSubnet (owner label HostSubnet/<name>) is on
// this host, also after the HostSubnet is deleted: containers still attached keep the network
// and its subnet here (NetworkInUse), and the controller keeps the block claimed while the
// report is there (controller/hostsubnet-leaving.ts), so no other node is given a subnet still
// live here. Once the network is off the host, the report goes, and with it the claim.
import type { HostSubnet } from '../../api/index.js';
import { unreadable, type AgentContext } from '../context.js';

/**
 * Removes the reports on HostSubnets that are not this node's (`mine`) whose network is not
 * among `onHost` (owner labels of xnet's networks on the host now). Not those of HostSubnets
 * whose key does not decode: whether they are still this node's cannot be read.
 */
export async function removeLeftReports(ctx: AgentContext, mine: HostSubnet[], onHost: Set<string>): Promise<void> {
  const keep = new Set([...mine.map((h) => h.metadata.name), ...unreadable(ctx, 'HostSubnet')]);
  for (const name of ctx.ownReports?.('HostSubnet') ?? []) {
    if (keep.has(name) || onHost.has(`HostSubnet/${name}`)) continue;
    ctx.log.info('the network of a HostSubnet no longer on this node is off the host: its report goes', { hostSubnet: name });
    await ctx.status.remove('HostSubnet', name);
  }
}
