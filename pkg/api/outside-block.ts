// A `dockerIPAM: blocks` MacvlanNet's `outsideBlock`: the addresses of its subnet, outside the
// node's own Docker block, that containers Docker attached to its network on that node hold.
// Docker's own IPAM checks a `docker run --ip` (or `network connect --ip`) only against its own
// node's containers, so it accepts another node's block's address, a ContainerNic's or a host
// shim's, and that address is then given twice on the shared L2 segment. The node's agent
// reports them on its MacvlanNet report (agent/reconcilers/macvlan-outside-block.ts); the
// controller compares them with what else holds the segment's addresses
// (controller/macvlan-conflicts.ts, ipam/address-conflicts.ts), and so does `xctl ipam check`.
// What counts as held is api/docker-held.ts's rule (heldInside), applied to this network's
// layout here; the report is the node's word, trusted only about its own containers, and
// readers apply the rule again to what they read.
import { z } from 'zod';
import { isIPv4, parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { cidrInterval, subtract, type Interval } from '../ipam/ranges.js';
import { heldInside, MAX_DOCKER_HELD } from './docker-held.js';
import { MAX_REPORTED_NAME } from './ipam-report.js';

/** One address a container holds outside its node's block, and that container's name when Docker gave one. */
export const outsideBlockEntry = z.strictObject({
  ip: z.string().refine(isIPv4, 'must be an IPv4 address'),
  name: z.string().max(MAX_REPORTED_NAME).optional(),
});
export type OutsideBlockEntry = z.infer<typeof outsideBlockEntry>;

/**
 * The fields as a node writes them: at most MAX_DOCKER_HELD addresses (lowest first), and, only
 * when there are more, how many there are in all. A longer list does not decode.
 */
export const outsideBlockReport = z.object({
  outsideBlock: z.array(outsideBlockEntry).max(MAX_DOCKER_HELD).optional(),
  outsideBlockCount: z.number().int().min(0).max(1 << 24).optional(),
});
export type OutsideBlockReport = z.infer<typeof outsideBlockReport>;

/**
 * The addresses of the segment outside a node's own Docker blocks (`own`: its block, and the one
 * an edit moved it from while Docker still has it): the subnet less those blocks, its network and
 * broadcast addresses and the gateway. Undefined when the layout does not parse.
 */
export function outsideOwnBlocks(subnet: string, own: ReadonlyArray<string | undefined>, gateway?: string): Interval[] | undefined {
  try {
    const s = cidrInterval(parseCidr(subnet));
    const out: Interval[] = [{ first: s.first, last: s.first }, { first: s.last, last: s.last }];
    for (const b of own) if (b) out.push(cidrInterval(parseCidr(b)));
    if (gateway) out.push({ first: parseIPv4(gateway), last: parseIPv4(gateway) });
    return subtract([s], out);
  } catch { return undefined; }
}

/** The report's fields for what the node's containers hold (`held`) in `ranges`: none when nothing. */
export function outsideBlockFields(ranges: Interval[], held: Iterable<OutsideBlockEntry>): OutsideBlockReport {
  const inside = heldInside(ranges, held);
  if (!inside.length) return {};
  const listed = inside.slice(0, MAX_DOCKER_HELD).map(({ ip, name }) => (name ? { ip, name } : { ip }));
  return { outsideBlock: listed, ...(inside.length > listed.length ? { outsideBlockCount: inside.length } : {}) };
}

/**
 * A node's report read back (untrusted): its entries within `ranges` (the rule applied again:
 * a node says nothing of another's block), or `unreadable` with why when the fields do not decode.
 */
export function readOutsideBlock(report: unknown, ranges: Interval[]): { held: OutsideBlockEntry[]; count: number } | { unreadable: string } {
  const r = outsideBlockReport.safeParse(report ?? {});
  if (!r.success) return { unreadable: r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ') };
  const inside = heldInside(ranges, r.data.outsideBlock ?? []).map(({ ip, name }) => (name ? { ip, name } : { ip }));
  return { held: inside, count: Math.max(inside.length, r.data.outsideBlockCount ?? 0) };
}
