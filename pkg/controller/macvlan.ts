// MacvlanNet per-node parts: each selected node gets one blockPrefix block for its Docker
// daemon's IPAM and one shim address, claimed in the MacvlanNet's pool by the same executor
// that hands out ContainerNic addresses there, so a block and an address never meet. The
// MacvlanNet's controller status (nodes[], allocated/free, Ready) is written in the same
// transaction as the claims it reports.
import { getCondition, type MacvlanNet, type MacvlanNodeStatus, type Node } from '../api/index.js';
import { formatCidr, formatIPv4, parseCidr } from '../ip/ipv4.js';
import { blockOfAddress, macvlanAddressRange, macvlanRange, nextFreeMacvlanBlocks } from '../ipam/plan.js';
import { cidrInterval, size, type Interval } from '../ipam/ranges.js';
import { padIp, type Claim } from '../ipam/keys.js';
import type { TxnPlan } from './txn-plan.js';
import type { RoundState } from './pool-executor.js';
import { labelsMatch, type Entry, type ClaimEntry } from './model.js';
import { roundPool } from './nics.js';
import { conditions, putStatusIfChanged, type Ctx, type Status } from './context.js';

/**
 * `more`: some nodes' parts did not fit this transaction; reconcile again for the rest (at once
 * when this one made `progress`, else after a pause: the round may have been full of NICs).
 */
export interface MacvlanOutcome { result: 'synced' | 'gone'; ready?: boolean; missing?: number; more?: boolean; progress?: boolean }

/** Room kept in the transaction for the status put written last: its compare, its op, ~250 bytes a node. */
const statusReserve = (nodes: number) => ({ compares: 1, ops: 1, bytes: 1024 + 256 * nodes });

export function selectedNodes(ctx: Ctx, m: MacvlanNet): Entry<Node>[] {
  const out: Entry<Node>[] = [];
  for (const n of ctx.model.objects<Node>('Node')) if (labelsMatch(m.spec.nodeSelector, n.obj.metadata.labels)) out.push(n);
  return out.sort((a, b) => a.obj.metadata.name.localeCompare(b.obj.metadata.name));
}

/** What the node's agent reports for this MacvlanNet: {ready, message} or a Ready condition. */
function agentReport(ctx: Ctx, node: string, mvn: string): { ready: boolean; message?: string } | undefined {
  const s = ctx.model.nodeStatus(node, 'MacvlanNet', mvn);
  if (!s) return undefined;
  const cond = getCondition(s.conditions, 'Ready');
  const ready = typeof s.ready === 'boolean' ? s.ready : cond?.status === 'True';
  const message = (typeof s.message === 'string' ? s.message : undefined) ?? cond?.message;
  return { ready, ...(message ? { message } : {}) };
}

export function planMacvlanNodes(ctx: Ctx, name: string, plan: TxnPlan, state: RoundState): MacvlanOutcome {
  const m = ctx.model.macvlanNet(name);
  if (!m) return { result: 'gone' };
  const spec = m.obj.spec;
  const uid = m.obj.metadata.uid!;
  const mvnKey = ctx.model.keys.object('MacvlanNet', name);
  plan.unchanged(mvnKey, m.kv);
  const nodes = selectedNodes(ctx, m.obj);
  const selected = new Set(nodes.map((n) => n.obj.metadata.name));
  const blocks = ctx.model.claimsIn('macvlannets', name, 'blocks');
  const addrs = ctx.model.claimsIn('macvlannets', name, 'addresses');
  const mineBlocks = new Map<string, ClaimEntry>();
  const mineShims = new Map<string, ClaimEntry>();
  // Only what this transaction writes is compared: new claims (absent), freed claims (as
  // cached), the status. A kept claim or a selected Node that changes meanwhile wakes this
  // reconcile again, and on a stock etcd (128 compares) a compare per node would cap a
  // MacvlanNet at ~40 nodes.
  const reserve = statusReserve(nodes.length);
  const opsBefore = plan.size.ops;
  const undeleted = new Set<string>();
  let more = false;
  for (const c of ctx.model.claimsOf(uid)) {
    const keep = c.claim.node && selected.has(c.claim.node) && c.key.startsWith(ctx.model.ipam.pool('macvlannets', name));
    const sizeOk = c.claim.role !== 'docker-block' || parseCidr(c.claim.cidr!).prefix === spec.blockPrefix;
    const map = c.claim.role === 'docker-block' ? mineBlocks : mineShims;
    if (keep && sizeOk && !map.has(c.claim.node!)) { map.set(c.claim.node!, c); continue; }
    const mark = plan.mark();
    plan.unchanged(c.key, c.kv).del(c.key);
    if (!plan.fitsWith(reserve)) { plan.rollback(mark); undeleted.add(c.key); more = true; }
  }
  const rp = (state.get(`mvn/${name}`) as { blocks: Interval[]; addrs: Set<number> } | undefined) ?? { blocks: [], addrs: new Set<number>() };
  state.set(`mvn/${name}`, rp);
  // NICs in this round share the pool's RoundPool: mark what they took too.
  const nicRound = roundPool(state, `macvlannets/${name}`);
  const takenAddrs = new Set<number>([...addrs.keys(), ...rp.addrs, ...(nicRound.taken ?? [])]);
  const takenBlocks: Interval[] = [...[...blocks.values()].filter((c) => mineBlocks.get(c.claim.node!)?.key === c.key || c.claim.owner.uid !== uid || undeleted.has(c.key))
    .map((c) => cidrInterval(parseCidr(c.claim.cidr!))), ...rp.blocks];
  const owner = { kind: 'MacvlanNet' as const, name, uid };
  const addrSpace = ctx.model.ipam.space('macvlannets', name, 'addresses');
  const blockSpace = ctx.model.ipam.space('macvlannets', name, 'blocks');
  const statusNodes: MacvlanNodeStatus[] = [];
  let allReady = nodes.length > 0;
  let missing = 0;
  for (const n of nodes) {
    const node = n.obj.metadata.name;
    const mark = plan.mark();
    let block = mineBlocks.get(node)?.claim.cidr;
    if (!block && !more) {
      const [b] = nextFreeMacvlanBlocks(spec, takenBlocks, takenAddrs, 1);
      if (b) {
        block = formatCidr(b);
        const iv = cidrInterval(b);
        takenBlocks.push(iv);
        rp.blocks.push(iv);
        const key = blockSpace + padIp(b.base);
        const claim: Claim = { owner, role: 'docker-block', cidr: block, node };
        plan.absent(key).rangeAbsent(addrSpace + padIp(iv.first), addrSpace + padIp(iv.last) + '\u0000').put(key, claim);
      }
    }
    let shim = mineShims.get(node)?.claim.ip;
    if (spec.hostShim && !shim && !more) {
      const ranges = macvlanAddressRange(spec, takenBlocks);
      let ip: number | undefined;
      for (const r of ranges) {
        for (let a = r.first; a <= r.last; a++) if (!takenAddrs.has(a)) { ip = a; break; }
        if (ip !== undefined) break;
      }
      if (ip !== undefined) {
        shim = formatIPv4(ip);
        takenAddrs.add(ip);
        rp.addrs.add(ip);
        nicRound.taken.add(ip);
        const key = addrSpace + padIp(ip);
        const claim: Claim = { owner, role: 'shim', ip: shim, node };
        plan.absent(key).absent(blockSpace + padIp(blockOfAddress(spec, ip).base)).put(key, claim);
      }
    }
    if (!spec.hostShim && mineShims.has(node) && !more) {
      const c = mineShims.get(node)!;
      plan.del(c.key);
      shim = undefined;
    }
    if (!plan.fitsWith(reserve)) {
      // this node's part waits for the next transaction (what it picked stays out of this round)
      plan.rollback(mark);
      more = true;
      block = mineBlocks.get(node)?.claim.cidr;
      shim = mineShims.get(node)?.claim.ip;
    }
    const override = spec.nodes?.find((o) => o.name === node)?.parent;
    const parentIf = override ?? spec.parent ?? n.obj.spec?.interface
      ?? (ctx.model.nodeStatus(node, 'Node', node)?.interface as string | undefined)
      ?? ctx.model.controllerStatus('Node', node)?.status.interface;
    const report = agentReport(ctx, node, name);
    const reported = ctx.model.nodeStatus(node, 'MacvlanNet', name)?.parent as string | undefined;
    const waiting = more && (!block || (spec.hostShim && !shim)) ? 'waiting for the next transaction of this pool' : undefined;
    const lacking = waiting ? undefined : !block ? `no free /${spec.blockPrefix} block left for Docker` : spec.hostShim && !shim ? 'no free address left for the host shim' : undefined;
    if (lacking) missing++;
    const ready = !lacking && !waiting && report?.ready === true;
    if (!ready) allReady = false;
    statusNodes.push({
      name: node,
      ...(reported ? { parent: reported } : parentIf ? { parent: spec.vlan ? `${parentIf}.${spec.vlan}` : parentIf } : {}),
      ...(block ? { dockerRange: block } : {}),
      ...(shim ? { shimAddress: shim } : {}),
      ready,
      message: lacking ?? waiting ?? report?.message ?? (report ? (ready ? 'ready' : 'not ready') : 'waiting for the node\'s agent'),
    });
  }
  const progress = plan.size.ops > opsBefore;
  const { allocated, free } = macvlanCounts(m.obj, takenBlocks, takenAddrs);
  const prev = ctx.model.controllerStatus('MacvlanNet', name)?.status;
  const cond = nodes.length === 0
    ? { type: 'Ready', status: 'False' as const, reason: 'NoNodes', message: 'no node matches nodeSelector' }
    : missing
      ? { type: 'Ready', status: 'False' as const, reason: 'PoolExhausted', message: `${missing} node(s) could not get a Docker block or shim address` }
      : allReady
        ? { type: 'Ready', status: 'True' as const, reason: 'AllNodesReady', message: `ready on ${nodes.length} node(s)` }
        : { type: 'Ready', status: 'False' as const, reason: 'NodesNotReady', message: `not ready on: ${statusNodes.filter((s) => !s.ready).map((s) => s.name).join(', ')}` };
  putStatusIfChanged(ctx, plan, 'MacvlanNet', name, {
    observedGeneration: m.obj.metadata.generation,
    allocated, free, nodes: statusNodes,
    conditions: conditions(prev, [cond]),
  });
  return { result: 'synced', ready: allReady, missing, more, progress };
}

/** allocated = addresses held (single claims + whole Docker blocks); free = the rest of the range. */
export function macvlanCounts(m: MacvlanNet, takenBlocks: Interval[], takenAddrs: Set<number>): { allocated: number; free: number } {
  const range = macvlanRange(m.spec);
  const inRange = (ip: number) => range.some((r) => ip >= r.first && ip <= r.last);
  let singles = 0;
  for (const ip of takenAddrs) if (inRange(ip)) singles++;
  const blockAddrs = size(takenBlocks);
  const total = size(range);
  const allocated = Math.min(total, singles + blockAddrs);
  return { allocated, free: Math.max(0, total - allocated) };
}

