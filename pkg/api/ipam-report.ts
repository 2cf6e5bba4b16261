// What a node's agent reports about the addresses the controller pre-claimed for it on one
// MacvlanNet (spec.dockerIPAM: xnet), under its own status key
// (/registry/status/nodes/<node>/macvlannets/<name>, field `ipam`): the report's format. The
// controller, `xctl ipam check` and `xctl apply` (validate-in-use-inside.ts) read it as untrusted
// input: decoded against this schema, an invalid report is ignored as a whole. Here rather than
// in ../dockeripam (which re-exports it, with what the agent makes of its book): xctl loads no
// agent code at start.
import { z } from 'zod';
import { isIPv4 } from '../ip/ipv4.js';

const ip = z.string().refine(isIPv4, 'not an IPv4 address');

/**
 * The longest container name and id a report carries. Docker sets no limit on a container's
 * name, so the agent clips it (it is only for messages): one longer name in a report made the
 * whole report fail to decode, and the controller then ignored the node's pool (no refill).
 */
export const MAX_REPORTED_NAME = 256;
export const MAX_REPORTED_CONTAINER = 128;
/** Most `external` marks a report lists as cleared at once (the agent clears no more until the controller has taken those). */
export const MAX_CLEARED = 256;

export const assignment = z.strictObject({
  ip,
  /** Docker container id, once the agent has seen the endpoint in Docker */
  container: z.string().max(MAX_REPORTED_CONTAINER).optional(),
  /** container name (for messages) */
  name: z.string().max(MAX_REPORTED_NAME).optional(),
});

export const nodeIpamReport = z.strictObject({
  /** addresses handed to Docker containers on this node */
  assigned: z.array(assignment).max(65536).default([]),
  /** pre-claimed addresses this node gives back (it will never hand them out again) */
  returned: z.array(ip).max(65536).default([]),
  /** pre-claimed addresses that answered an ARP probe: someone outside xnet uses them */
  external: z.array(ip).max(65536).default([]),
  /** addresses asked for by `docker run --ip` that this node does not hold yet */
  requested: z.array(ip).max(256).default([]),
  /**
   * this node's `external` marks (status.nodes[].external) that its ARP probe, made again after
   * a quarantine, found unanswered: the controller frees them. Written only while there are
   * some, and only of marks a controller listing them per node made: a controller before the
   * field refuses the whole report (strict), and never lists them
   */
  cleared: z.array(ip).max(MAX_CLEARED).optional(),
  /** how many more free addresses the node wants at once (requests waiting) */
  want: z.number().int().min(0).max(4096).default(0),
});

export type Assignment = z.infer<typeof assignment>;
export type NodeIpamReport = z.infer<typeof nodeIpamReport>;

export function decodeReport(v: unknown): NodeIpamReport | undefined {
  const r = nodeIpamReport.safeParse(v);
  return r.success ? r.data : undefined;
}
