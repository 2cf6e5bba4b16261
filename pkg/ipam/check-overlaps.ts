// `xctl ipam check`: addresses held twice (check.ts). Every ClusterNetwork and MacvlanNet is one
// address space: xctl refuses pools that overlap (api/validate-cross.ts poolOverlapIssues), but
// nothing guards that read-then-write (two applies at once, a raw etcd write, an older tool), and
// claims of different pools have different keys, so etcd lets both through. So what every pool
// announces is swept together: any two overlapping are a duplicate, but for a ClusterNetwork
// NIC's address in its own HostSubnet's block. A MacvlanNet's containers sit in its nodes'
// Docker blocks by design: their addresses are compared among themselves, per MacvlanNet.
import type { ContainerNic, Status } from '../api/index.js';
import { parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { cidrInterval, type Interval } from './ranges.js';

/** A HostSubnet's block (also one of a deleted HostSubnet its node keeps): whose NICs it holds. */
export interface HostBlock { name: string; clusterNetwork: string; node: string }
/** A ClusterNetwork NIC: which HostSubnet's block is its own (network-users.ts hostSubnetUsers). */
export interface NicHome { clusterNetwork: string; node: string; hostSubnet?: string }

/** What a status announces: `pool` as xctl names it (`clusternetwork/apps`). */
export interface Held { iv: Interval; who: string; pool: string; block?: HostBlock; nic?: NicHome; containers?: boolean }

/** The duplicates among `held`, each naming both holders. O(n log n). */
export function overlaps(held: Held[]): string[] {
  const space = held.filter((h) => !h.containers);
  const byMvn = new Map<string, Held[]>();
  for (const h of held) if (h.containers) (byMvn.get(h.pool) ?? byMvn.set(h.pool, []).get(h.pool)!).push(h);
  return [
    // all but HostSubnet blocks: any overlap is a duplicate
    ...sweep(space.filter((h) => !h.block), (x, y) => `${x.who} overlaps ${y.who}${poolsText(x, y)}`),
    // HostSubnet blocks with everything: the pairs of a block (the others were named above)
    ...sweep(space, (x, y) => (x.block || y.block) && !ownBlock(x, y) ? `${x.who} overlaps ${y.who}${pairText(x, y)}` : undefined),
    ...[...byMvn.values()].flatMap((l) => sweep(l, (x, y) => `${x.who} overlaps ${y.who}`)),
  ];
}

/**
 * Sorted by first address (a wider one first), each interval is compared with the one reaching
 * furthest before it: a pair `text` names (undefined: no problem) is a duplicate.
 */
function sweep(list: Held[], text: (x: Held, y: Held) => string | undefined): string[] {
  const out: string[] = [];
  const sorted = [...list].sort((a, b) => a.iv.first - b.iv.first || b.iv.last - a.iv.last);
  let maxLast = -1;
  let holder: Held | undefined;
  for (const x of sorted) {
    const t = holder && x.iv.first <= maxLast ? text(x, holder) : undefined;
    if (t) out.push(t);
    if (x.iv.last > maxLast) { maxLast = x.iv.last; holder = x; }
  }
  return out;
}

/** A NIC's address in the block of the HostSubnet it is on (its status.hostSubnet, else its node's of its network). */
function ownBlock(x: Held, y: Held): boolean {
  const [nic, block] = x.nic ? [x.nic, y.block] : [y.nic, x.block];
  return !!nic && !!block && nic.clusterNetwork === block.clusterNetwork && nic.node === block.node && (nic.hostSubnet ?? block.name) === block.name;
}

const poolsText = (x: Held, y: Held) => (x.pool === y.pool ? '' : ` (${x.pool} and ${y.pool} overlap)`);

function pairText(x: Held, y: Held): string {
  const [nic, block] = x.nic ? [x.nic, y.block] : [y.nic, x.block];
  if (x.pool !== y.pool || !nic || !block || nic.node === block.node) return poolsText(x, y);
  return ` (a NIC of node ${nic.node} in node ${block.node}'s HostSubnet)`;
}

/**
 * ClusterNetwork NICs whose address is outside the subnet of the HostSubnet their
 * status.hostSubnet names (the one whose bridge the controller put them on).
 */
export function misplacedNics(objects: Map<string, { spec: unknown }>, statuses: Map<string, Status>): string[] {
  const out: string[] = [];
  for (const [id, o] of objects) {
    const st = statuses.get(id);
    if (!id.startsWith('ContainerNic/') || !(o.spec as ContainerNic['spec']).network.clusterNetwork) continue;
    const on = st?.hostSubnet;
    const subnet = typeof on === 'string' ? statuses.get(`HostSubnet/${on}`)?.subnet : undefined;
    if (typeof st?.ip !== 'string' || typeof subnet !== 'string' || !objects.has(`HostSubnet/${on}`)) continue;
    let inside: boolean;
    try { const iv = cidrInterval(parseCidr(subnet)); const ip = parseIPv4(st.ip); inside = ip >= iv.first && ip <= iv.last; } catch { continue; }
    if (!inside) out.push(`ContainerNic "${id.slice('ContainerNic/'.length)}" ${st.ip} is outside the subnet ${subnet} of its HostSubnet "${on}" (status.hostSubnet)`);
  }
  return out;
}
