// A MacvlanNet's controller status: what each node holds (macvlan.ts plans it), the pool's
// allocated/free/used counts, the addresses marked external, and the Ready condition.
import type { MacvlanNet, MacvlanNodeStatus } from '../api/index.js';
import { macvlanUsage } from '../ipam/macvlan-usage.js';
import { coolingForAll } from './address-cooldown.js';
import { nodeIpamReport } from './ipam-report.js';
import { unknownOverrideNote, unselectedOverrideNote } from './node-missing.js';
import type { TxnPlan } from './txn-plan.js';
import { conditions, type Ctx } from './context.js';
import { putMacvlanStatus } from './macvlan-status-keys.js';
import { firstFew } from '../first-few.js';
import { parseIPv4 } from '../ip/ipv4.js';
import { MAX_LISTED_MARKS, MAX_STATUS_EXTERNAL } from './macvlan-mark-time.js';
import { conflictCondition, conflictFields, type ConflictsFound } from './macvlan-conflicts.js';

/**
 * Ready from the nodes' parts and the ContainerNics waiting for an address (`waiting`, by name);
 * `note` (an override naming no Node) is added to its message whatever it says.
 */
function macvlanCondition(statusNodes: MacvlanNodeStatus[], missing: Missing, waiting: string[], note: string) {
  const c = readyOf(statusNodes, missing, waiting);
  return note ? { ...c, message: c.message + note } : c;
}

/**
 * Ready is True only when the network serves what is declared on it: every node's part, and
 * every ContainerNic on it an address. A pool that cannot is `PoolExhausted`, as the node parts
 * or NICs it fails say themselves; a node not ready says so first (a lost agent's idle
 * pre-claims may be what the NICs wait for).
 */
function readyOf(statusNodes: MacvlanNodeStatus[], missing: Missing, waiting: string[]) {
  const n = statusNodes.length;
  if (n === 0) return { type: 'Ready', status: 'False' as const, reason: 'NoNodes', message: 'no node matches nodeSelector' };
  const nics = waiting.length ? nicsWaitingMessage(statusNodes, waiting) : '';
  if (missing.count) return { type: 'Ready', status: 'False' as const, reason: 'PoolExhausted', message: `${missingText(missing)}${nics && `; ${nics}`}` };
  const notReady = statusNodes.filter((s) => !s.ready);
  if (notReady.length) return { type: 'Ready', status: 'False' as const, reason: 'NodesNotReady', message: notReadyMessage(notReady) };
  if (nics) return { type: 'Ready', status: 'False' as const, reason: 'PoolExhausted', message: nics };
  return { type: 'Ready', status: 'True' as const, reason: 'AllNodesReady', message: `ready on ${n} node(s)` };
}

/**
 * The nodes lacking a Docker block or shim address, and how many of them only until released
 * addresses cool down (macvlan-cooling.ts): those get theirs by themselves, as a NIC waiting so
 * does, so Ready says they wait (without the seconds left: it would be rewritten every round).
 */
export interface Missing { count: number; cooling: number; cooldownMs?: number }

function missingText(m: Missing): string {
  const cooled = `every free one was released less than ${Math.round((m.cooldownMs ?? 0) / 1000)} s ago (--address-cooldown)`;
  if (m.cooling === m.count) return `${m.count} node(s) wait for a Docker block or shim address: ${cooled}`;
  return `${m.count} node(s) could not get a Docker block or shim address${m.cooling ? ` (${m.cooling} of them wait: ${cooled})` : ''}`;
}

/** NICs named in the Ready message; the rest are counted (each NIC's Allocated says what holds the range). */
const MAX_NICS = 3;

/**
 * `2 ContainerNic(s) wait for a free address in the range: nf-3, nf-4`, and, while nodes are
 * asked to give back idle pre-claims (status.nodes[].maxFree: macvlan-fair.ts), that it is
 * coming: the NIC's own message names who holds the range, this one only says that it waits.
 */
function nicsWaitingMessage(statusNodes: MacvlanNodeStatus[], waiting: string[]): string {
  const asked = statusNodes.some((s) => s.maxFree !== undefined);
  const head = `${waiting.length} ContainerNic(s) wait for a free address in the range: ${firstFew(waiting, MAX_NICS)}`;
  return asked ? `${head}; the nodes were asked to give back idle pre-claimed addresses for them (status.nodes[].maxFree)` : head;
}

/** Most distinct reasons the Ready message spells out; the rest are in status.nodes. */
const MAX_REASONS = 3;

/**
 * The nodes that are not ready, grouped by what each says (`xctl describe` shows why, not only
 * where): "not ready on host-1, host-2: the MacvlanNet is being deleted: ...".
 */
export function notReadyMessage(nodes: Array<{ name: string; message?: string }>): string {
  const byWhy = new Map<string, string[]>();
  for (const s of nodes) {
    const why = s.message ?? '';
    const list = byWhy.get(why);
    if (list) list.push(s.name); else byWhy.set(why, [s.name]);
  }
  const parts = [...byWhy].slice(0, MAX_REASONS).map(([why, names]) => `${names.join(', ')}${why ? `: ${why}` : ''}`);
  const more = byWhy.size > MAX_REASONS ? `; and ${byWhy.size - MAX_REASONS} more reason(s) in status.nodes` : '';
  return `not ready on ${parts.join('; ')}${more}`;
}

/** External marks this transaction makes (macvlan.ts ensureNodePool) and frees (macvlan-unmark.ts). */
export interface RoundMarks {
  marked?: ReadonlyArray<{ ip: string; node: string; markedAt?: number }>; unmarked?: ReadonlyArray<{ ip: string; node: string }>;
  /** dockerIPAM blocks: addresses held twice on the segment (macvlan-conflicts.ts) */
  conflicts?: ConflictsFound;
  /** the nodes whose claims this transaction changes (macvlan-round.ts MvnRound.touched) */
  touched?: ReadonlySet<string>;
  /** when the round is looked at again for what cools (macvlan-round.ts MvnRound.coolingWaits): here, once the status's cooling addresses have */
  coolingWaits?: Map<string, number>;
}

/**
 * Puts the MacvlanNet's controller status (what changed of it: macvlan-status-keys.ts) into the
 * transaction that makes the claims it reports: every node's part, allocated/free counted from
 * the claims as they will be, and `usedUp`, why the parts marked usedUp get no address
 * (macvlan-used-up.ts), once. Returns whether some node's part waits for the next transaction.
 */
export function writeMacvlanStatus(ctx: Ctx, plan: TxnPlan, m: MacvlanNet, xnetIpam: boolean, statusNodes: MacvlanNodeStatus[], missing: Missing, usedUp?: string, round: RoundMarks = {}): boolean {
  const name = m.metadata.name;
  const uid = m.metadata.uid!;
  const claims = [...ctx.model.claimsIn('macvlannets', name, 'addresses').values(), ...ctx.model.claimsIn('macvlannets', name, 'blocks').values()];
  // a mark this transaction turns into the pre-claim of the node using it, or frees, is external no more
  const preClaimed = new Set(statusNodes.flatMap((s) => s.addresses ?? []));
  const unmarked = new Set(round.unmarked?.map((u) => u.ip));
  const marks = [
    ...claims.filter((c) => c.claim.role === 'external' && !preClaimed.has(c.claim.ip!) && !unmarked.has(c.claim.ip!) && !plan.deletes(c.key)).map((c) => c.claim),
    ...(round.marked ?? []).map((k) => ({ ...k, owner: { uid } })),
  ];
  const held = [
    ...claims.filter((c) => c.claim.owner.uid !== uid).map((c) => c.claim),
    ...statusNodes.flatMap((s) => [
      ...(s.dockerRange ? [{ cidr: s.dockerRange }] : []), ...(s.previousDockerRange ? [{ cidr: s.previousDockerRange }] : []), ...(s.shimAddress ? [{ ip: s.shimAddress }] : []), ...(s.addresses ?? []).map((ip) => ({ ip })),
    ]),
    ...marks,
  ];
  const own = marks.filter((c) => c.owner.uid === uid);
  // the lowest MAX_STATUS_EXTERNAL, and how many in all when there are more: a status listing a
  // lying node's ~110,000 marks was larger than etcd takes and was never written again
  const marked = [...new Set(own.map((c) => c.ip!))].sort((a, b) => parseIPv4(a) - parseIPv4(b));
  const external = marked.slice(0, MAX_STATUS_EXTERNAL);
  const used = xnetIpam ? statusNodes.reduce((s, n) => s + usedOn(ctx, name, n), 0) : undefined;
  const prev = ctx.model.controllerStatus('MacvlanNet', name)?.status;
  return putMacvlanStatus(ctx, plan, name, {
    observedGeneration: m.metadata.generation,
    ...macvlanUsage(m.spec, held, coolingCounted(ctx, name, round)),
    ...(used !== undefined ? { used } : {}),
    ...(external.length ? { external } : {}),
    ...(marked.length > external.length ? { externalCount: marked.length } : {}),
    nodes: xnetIpam ? withMarks(statusNodes, own) : statusNodes,
    ...(usedUp ? { poolUsedUp: usedUp } : {}),
    ...conflictFields(round.conflicts),
    conditions: conditions(prev, [
      macvlanCondition(statusNodes, { ...missing, cooldownMs: ctx.addressCooldownMs }, ctx.model.nicsWaitingIn('macvlannets', name), m.metadata.deletionTimestamp ? '' : overrideNotes(ctx, m, statusNodes)),
      ...(round.conflicts ? [conflictCondition(round.conflicts)] : []),
    ]),
  }, round.touched ?? new Set());
}

/**
 * The pool's addresses cooling down (address-cooldown.ts coolingForAll), which the status counts
 * apart from `free` (`cooling`): none may have them yet. The round is looked at again when the
 * first has cooled, so the counts say it then without anything else happening.
 */
function coolingCounted(ctx: Ctx, name: string, round: RoundMarks): number[] {
  const cooling = coolingForAll(ctx, { type: 'macvlannets', name });
  let first: number | undefined;
  for (const until of cooling.values()) first = Math.min(first ?? until, until);
  if (first !== undefined) round.coolingWaits?.set('status', first);
  return [...cooling.keys()];
}

/**
 * Each node's own external marks in its part (`external`, lowest first, at most
 * MAX_LISTED_MARKS: a node that lies can have every address of a large pool marked,
 * docs/security.md; the rest are listed, and so probed again, as the first ones are freed), and
 * when each was made (`externalMarkedAt`, 0 for a mark without its time), which its agent
 * probes again a quarantine after (../dockeripam/external-marks.ts): status.external does not
 * say whose they are.
 */
function withMarks(statusNodes: MacvlanNodeStatus[], marks: Array<{ ip?: string; node?: string; markedAt?: number }>): MacvlanNodeStatus[] {
  const byNode = new Map<string, Map<string, number>>();
  for (const c of marks) if (c.node && c.ip) byNode.set(c.node, (byNode.get(c.node) ?? new Map()).set(c.ip, c.markedAt ?? 0));
  return statusNodes.map((s) => {
    const times = byNode.get(s.name);
    if (!times) return s;
    const ips = [...times.keys()].sort((a, b) => parseIPv4(a) - parseIPv4(b)).slice(0, MAX_LISTED_MARKS);
    const at = ips.map((ip) => times.get(ip)!);
    return { ...s, external: ips, ...(at.some((t) => t > 0) ? { externalMarkedAt: at } : {}) };
  });
}

/**
 * How many of the addresses claimed for the node its IPAM plugin has given to containers, by
 * its report: its pre-claimed ones and those kept outside an edited range. Only its own count:
 * a report listing 50,000 addresses, other nodes' and ones outside the pool among them, made
 * `used` 50,000.
 */
function usedOn(ctx: Ctx, mvn: string, part: MacvlanNodeStatus): number {
  const held = new Set([...part.addresses ?? [], ...part.outsideRange ?? []]);
  let n = 0;
  for (const a of nodeIpamReport(ctx, part.name, mvn)?.assigned ?? []) if (held.has(a.ip)) n++;
  return n;
}

/** What the Ready message adds about spec.nodes[] overrides that apply to no node (node-missing.ts). */
function overrideNotes(ctx: Ctx, m: MacvlanNet, statusNodes: MacvlanNodeStatus[]): string {
  return unknownOverrideNote(ctx.model, m) + unselectedOverrideNote(ctx.model, m, new Set(statusNodes.map((n) => n.name)));
}
