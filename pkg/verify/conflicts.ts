// `xctl verify`: dockerIPAM blocks addresses held twice on a MacvlanNet's segment, as the
// controller lists them in the MacvlanNet's status (status.addressConflicts:
// controller/macvlan-conflicts.ts). No host's kernel or Docker differs from what its agent would
// make, yet two hosts answer for one address: each is a difference of every node one of whose
// containers holds it (the one to remove or reconnect), naming the address and both holders.
// The status names no container (every node reads it): this host's own is named as its Docker
// says, the other node's by its node. A conflict lists at most a few holders (holderCount counts
// them all): a node not listed among them is found by its own Docker, holding the address
// outside its own block.
import type { MacvlanNet } from '../api/index.js';
import { outsideOwnBlocks } from '../api/outside-block.js';
import { isIPv4, parseIPv4 } from '../ip/ipv4.js';
import { conflictText, type AddressConflict } from '../ipam/address-conflicts.js';
import { contains } from '../ipam/ranges.js';
import type { Difference } from './verify.js';

/** The names of the containers on MacvlanNet `m`'s Docker network here, by address (none when Docker cannot say). */
export type NamesOn = (m: MacvlanNet) => Promise<Map<string, string>>;

const listsNode = (c: AddressConflict, node: string) => c.holders.some((h) => h.node === node && h.role === 'container');
const leavesOut = (c: AddressConflict) => (c.holderCount ?? 0) > c.holders.length;

/** Whether a container of `node` holds `ip` outside the node's own blocks, by its Docker (`names`) and its part of `m`. */
function heldOutsideHere(m: MacvlanNet, node: string, ip: string, names: Map<string, string>): boolean {
  const part = m.status?.nodes?.find((p) => p.name === node);
  const ranges = part && outsideOwnBlocks(m.spec.subnet, [part.dockerRange, part.previousDockerRange], m.spec.gateway);
  return !!ranges && names.has(ip) && isIPv4(ip) && contains(ranges, parseIPv4(ip));
}

/** One difference per conflict of `nets` in which a container of `node` holds the address. */
export async function conflictDifferences(node: string, nets: MacvlanNet[], namesOn: NamesOn): Promise<Difference[]> {
  const out: Difference[] = [];
  for (const m of nets) {
    const conflicts = (m.status?.addressConflicts ?? []) as AddressConflict[];
    if (!conflicts.some((c) => listsNode(c, node) || leavesOut(c))) continue;
    const names = await namesOn(m);
    for (const c of conflicts) {
      const listed = listsNode(c, node);
      if (!listed && !(leavesOut(c) && heldOutsideHere(m, node, c.ip, names))) continue;
      const here = { node, role: 'container' as const, what: `a container on node ${node}`, name: names.get(c.ip) ?? '' };
      const holders = listed ? c.holders.map((h) => (h.node === node && h.role === 'container' ? { ...h, name: here.name } : h)) : [here, ...c.holders];
      out.push({ host: node, what: `macvlannet/${m.metadata.name}`, expected: `${c.ip} held once on the segment`, found: conflictText({ ...c, holders }) });
    }
  }
  return out;
}
