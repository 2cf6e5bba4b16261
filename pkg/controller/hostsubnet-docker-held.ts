// The addresses of a HostSubnet's xnet part that containers Docker attached to its network hold,
// as the HostSubnet's node reports them (status.dockerHeld of its report: api/docker-held.ts).
// The controller hands none of them to a ContainerNic, and moves an unpinned NIC it gave one
// before the report came (a race) to another address unless the NIC is already in its container
// with it. The report is the node's word, trusted only for its own HostSubnet: only the report
// of the HostSubnet's spec.node counts, only addresses of the HostSubnet's xnet part (inside its
// subnet, outside dockerRange, not the gateway), at most MAX_DOCKER_HELD; one that does not
// decode is ignored and logged once, never thrown. Decoded once per stored value (the status
// object the model keeps parsed for it): a NIC's allocation looks it up, which is all it costs
// while no node reports such addresses.
import type { ContainerNic } from '../api/index.js';
import { dockerHeldIn, dockerHeldSchema } from '../api/docker-held.js';
import { formatIssuePath } from '../api/field-path.js';
import { formatIPv4 } from '../ip/ipv4.js';
import type { Interval } from '../ipam/ranges.js';
import type { Ctx } from './context.js';

const NONE: ReadonlySet<number> = new Set();

/** Per report value (and the xnet part it was read against): the addresses that count. */
const decoded = new WeakMap<object, { ranges: Interval[]; held: ReadonlySet<number> }>();
/** Per controller (its model): the HostSubnets whose report's dockerHeld does not decode (logged once). */
const unreadableNow = new WeakMap<object, Set<string>>();

/** What the node of HostSubnet `hostSubnet` reports held by Docker's containers in `ranges` (its xnet part). */
export function dockerHeldOn(ctx: Ctx, hostSubnet: string, node: string, ranges: Interval[]): ReadonlySet<number> {
  const status = ctx.model.nodeStatus(node, 'HostSubnet', hostSubnet) as unknown;
  if (!status || typeof status !== 'object' || (status as { dockerHeld?: unknown }).dockerHeld === undefined) return NONE;
  let d = decoded.get(status);
  if (!d || d.ranges !== ranges) decoded.set(status, (d = { ranges, held: decode(ctx, hostSubnet, node, (status as { dockerHeld: unknown }).dockerHeld, ranges) }));
  return d.held;
}

function decode(ctx: Ctx, hostSubnet: string, node: string, value: unknown, ranges: Interval[]): ReadonlySet<number> {
  let open = unreadableNow.get(ctx.model);
  if (!open) unreadableNow.set(ctx.model, (open = new Set()));
  const r = dockerHeldSchema.safeParse(value);
  if (r.success) {
    open.delete(hostSubnet);
    const held = dockerHeldIn(ranges, r.data);
    return held.length ? new Set(held) : NONE;
  }
  const why = r.error.issues.slice(0, 3).map((i) => `${formatIssuePath(i.path, 'dockerHeld')}: ${i.message}`).join('; ');
  if (!open.has(hostSubnet)) ctx.log.warn('node report of addresses Docker holds on a HostSubnet does not decode; ignored', { node, hostSubnet, error: why });
  open.add(hostSubnet);
  return NONE;
}

/**
 * Whether the NIC keeps `ip`, which it holds: yes unless Docker's containers hold it (`held`)
 * and the NIC is not in its container with it (its node's report: Ready True about this
 * address). A pinned spec.ip is kept (the user's choice: its agent reports AddressInUse). One
 * already in place stays: it was there first, and renumbering a running container is worse.
 */
export function keepsAddress(ctx: Ctx, nic: ContainerNic, ip: number, held: ReadonlySet<number>): boolean {
  if (nic.spec.ip || !held.has(ip)) return true;
  const report = ctx.model.nodeStatus(nic.spec.node, 'ContainerNic', nic.metadata.name) as { observedIp?: unknown; objectUid?: unknown; conditions?: unknown } | undefined;
  const ready = report && Array.isArray(report.conditions)
    ? (report.conditions as unknown[]).find((c): c is { status?: unknown } => !!c && typeof c === 'object' && (c as { type?: unknown }).type === 'Ready') : undefined;
  if (ready?.status === 'True' && report?.observedIp === formatIPv4(ip) && report.objectUid === nic.metadata.uid) return true;
  ctx.log.info('a container Docker attached holds the address of a NIC not in place: it is given another', { nic: nic.metadata.name, node: nic.spec.node, ip: formatIPv4(ip) });
  return false;
}
