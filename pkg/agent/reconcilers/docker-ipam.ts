// dockerIPAM xnet on this node: the address book follows the controller's list of this node's
// addresses, learns from Docker which container holds which address, and frees what Docker no
// longer holds (a ReleaseAddress missed while the agent was down), never a live container's.
import type { MacvlanNet } from '../../api/index.js';
import type { NetworkEndpoint } from '../../docker/types.js';
import { gratuitousArp } from '../../dockeripam/arp.js';
import type { AddressBook } from '../../dockeripam/book.js';
import { pidTarget } from '../../netlink/target.js';
import type { AgentContext } from '../context.js';

/** An address handed out but not seen on any container for this long is stale. */
export const UNSEEN_GRACE_MS = 60_000;

export function otherHolder(ctx: AgentContext, mvn: string, ip: string): string | undefined {
  const m = ctx.caches.macvlanNets.get(mvn);
  const st = (m?.status ?? {}) as { nodes?: Array<{ name: string; addresses?: string[]; shimAddress?: string }>; external?: string[] };
  if (st.external?.includes(ip)) return 'a host outside xnet (it answered an ARP probe)';
  for (const n of st.nodes ?? []) {
    if (n.name === ctx.node) continue;
    if (n.addresses?.includes(ip)) return `node ${n.name}`;
    if (n.shimAddress === ip) return `the host shim of node ${n.name}`;
  }
  return undefined;
}

/** Learns holders from Docker, frees stale addresses; returns the addresses newly seen on containers. */
export async function syncDockerIpam(ctx: AgentContext, book: AddressBook, m: MacvlanNet, network: string): Promise<void> {
  const mvn = m.metadata.name;
  const eps = await ctx.dp.docker.networkEndpoints(network);
  if (!eps) return;
  const seen = new Map<string, NetworkEndpoint>();
  for (const e of eps) if (e.ip) seen.set(e.ip, e);
  const fresh: NetworkEndpoint[] = [];
  for (const a of book.assigned(mvn)) {
    const e = seen.get(a.ip);
    if (e) {
      if (a.container !== e.container) fresh.push(e);
      book.identify(mvn, a.ip, e.container, e.name);
    } else if (a.container || Date.now() - a.at > UNSEEN_GRACE_MS) {
      ctx.log.info('freeing an address no container holds any more', { macvlanNet: mvn, ip: a.ip, container: a.name ?? a.container });
      book.release(mvn, a.ip);
    }
  }
  for (const e of fresh) void announce(ctx, e);
}

/** Gratuitous ARP from inside the container: peers that knew the address elsewhere learn the new MAC. */
async function announce(ctx: AgentContext, e: NetworkEndpoint): Promise<void> {
  const info = await ctx.dp.docker.inspectContainer(e.container).catch(() => undefined);
  if (!info?.pid) return;
  const t = pidTarget(info.pid);
  const addrs = await ctx.dp.containerState(info.pid).catch(() => undefined);
  const dev = addrs?.addrs.find((a) => a.cidr.split('/')[0] === e.ip)?.dev;
  if (dev && !(await gratuitousArp(t, dev, e.ip))) ctx.log.debug('gratuitous ARP not sent', { ip: e.ip, container: e.name });
}
