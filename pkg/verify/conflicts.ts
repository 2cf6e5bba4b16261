// `xctl verify`: dockerIPAM blocks addresses held twice on a MacvlanNet's segment, as the
// controller lists them in the MacvlanNet's status (status.addressConflicts:
// controller/macvlan-conflicts.ts). No host's kernel or Docker differs from what its agent would
// make, yet two hosts answer for one address: each is a difference of every node one of whose
// containers holds it (the one to remove or reconnect), naming the address and both holders.
// The status names no container (every node reads it): this host's own is named as its Docker
// says, the other node's by its node.
import type { MacvlanNet } from '../api/index.js';
import { conflictText, type AddressConflict } from '../ipam/address-conflicts.js';
import type { Difference } from './verify.js';

/** The names of the containers on MacvlanNet `m`'s Docker network here, by address (none when Docker cannot say). */
export type NamesOn = (m: MacvlanNet) => Promise<Map<string, string>>;

/** One difference per conflict of `nets` in which a container of `node` holds the address. */
export async function conflictDifferences(node: string, nets: MacvlanNet[], namesOn: NamesOn): Promise<Difference[]> {
  const out: Difference[] = [];
  for (const m of nets) {
    const listed = ((m.status?.addressConflicts ?? []) as AddressConflict[]).filter((c) => c.holders.some((h) => h.node === node && h.role === 'container'));
    if (!listed.length) continue;
    const names = await namesOn(m);
    for (const c of listed) {
      const named = { ...c, holders: c.holders.map((h) => (h.node === node && h.role === 'container' ? { ...h, name: names.get(c.ip) ?? '' } : h)) };
      out.push({ host: node, what: `macvlannet/${m.metadata.name}`, expected: `${c.ip} held once on the segment`, found: conflictText(named) });
    }
  }
  return out;
}
