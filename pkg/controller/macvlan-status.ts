// A MacvlanNet's controller status: what each node holds (macvlan.ts plans it), the pool's
// allocated/free/used counts, the addresses marked external, and the Ready condition.
import type { MacvlanNet, MacvlanNodeStatus } from '../api/index.js';
import { macvlanUsage } from '../ipam/macvlan-usage.js';
import { nodeIpamReport } from './ipam-report.js';
import { unknownOverrideNote, unselectedOverrideNote } from './node-missing.js';
import type { TxnPlan } from './txn-plan.js';
import { conditions, putStatusIfChanged, type Ctx } from './context.js';

/** Ready from the nodes' parts; `note` (an override naming no Node) is added to its message whatever it says. */
function macvlanCondition(statusNodes: MacvlanNodeStatus[], missing: number, note: string) {
  const c = readyOf(statusNodes, missing);
  return note ? { ...c, message: c.message + note } : c;
}

function readyOf(statusNodes: MacvlanNodeStatus[], missing: number) {
  const n = statusNodes.length;
  if (n === 0) return { type: 'Ready', status: 'False' as const, reason: 'NoNodes', message: 'no node matches nodeSelector' };
  if (missing) return { type: 'Ready', status: 'False' as const, reason: 'PoolExhausted', message: `${missing} node(s) could not get a Docker block or shim address` };
  const notReady = statusNodes.filter((s) => !s.ready);
  if (notReady.length === 0) return { type: 'Ready', status: 'True' as const, reason: 'AllNodesReady', message: `ready on ${n} node(s)` };
  return { type: 'Ready', status: 'False' as const, reason: 'NodesNotReady', message: notReadyMessage(notReady) };
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

/**
 * Puts the MacvlanNet's controller status (when it changed) into the transaction that makes the
 * claims it reports: every node's part, allocated/free counted from the claims as they will be.
 */
export function writeMacvlanStatus(ctx: Ctx, plan: TxnPlan, m: MacvlanNet, xnetIpam: boolean, statusNodes: MacvlanNodeStatus[], missing: number): void {
  const name = m.metadata.name;
  const uid = m.metadata.uid!;
  const claims = [...ctx.model.claimsIn('macvlannets', name, 'addresses').values(), ...ctx.model.claimsIn('macvlannets', name, 'blocks').values()];
  // a mark this transaction turns into the pre-claim of the node using it is external no more
  const preClaimed = new Set(statusNodes.flatMap((s) => s.addresses ?? []));
  const held = [
    ...claims.filter((c) => c.claim.owner.uid !== uid).map((c) => c.claim),
    ...statusNodes.flatMap((s) => [
      ...(s.dockerRange ? [{ cidr: s.dockerRange }] : []), ...(s.previousDockerRange ? [{ cidr: s.previousDockerRange }] : []), ...(s.shimAddress ? [{ ip: s.shimAddress }] : []), ...(s.addresses ?? []).map((ip) => ({ ip })),
    ]),
    ...claims.filter((c) => c.claim.role === 'external' && !preClaimed.has(c.claim.ip!)).map((c) => c.claim),
  ];
  const external = claims.filter((c) => c.claim.role === 'external' && c.claim.owner.uid === uid && !preClaimed.has(c.claim.ip!)).map((c) => c.claim.ip!).sort();
  const used = xnetIpam ? statusNodes.reduce((s, n) => s + usedOn(ctx, name, n), 0) : undefined;
  const prev = ctx.model.controllerStatus('MacvlanNet', name)?.status;
  putStatusIfChanged(ctx, plan, 'MacvlanNet', name, {
    observedGeneration: m.metadata.generation,
    ...macvlanUsage(m.spec, held),
    ...(used !== undefined ? { used } : {}),
    ...(external.length ? { external } : {}),
    nodes: statusNodes,
    conditions: conditions(prev, [macvlanCondition(statusNodes, missing, m.metadata.deletionTimestamp ? '' : overrideNotes(ctx, m, statusNodes))]),
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
