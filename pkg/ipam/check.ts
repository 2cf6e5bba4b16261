// `xctl ipam check`: an audit of every claim against every owner, read at one etcd revision.
// Per pool: used and free. Problems: leaks (a claim whose owner is gone, is another object
// of the same name, or does not announce it in its status), duplicates (two owners announcing
// overlapping addresses, in any pools: check-overlaps.ts), unclaimed allocations (a status
// announcing an address no claim backs) and misplaced NICs (an address outside the subnet of
// their status.hostSubnet).
import type { Etcd3 } from 'etcd3';
import type { ClusterNetwork, ContainerNic, HostSubnet, MacvlanNet, MacvlanNodeStatus, Status } from '../api/index.js';
import { parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { DEFAULT_PREFIX } from '../store/keys.js';
import { listPrefix } from '../runtime/kv.js';
import { cidrInterval, contains, size, type Interval } from './ranges.js';
import { hostSubnetXnetRange, macvlanRange, slotCount } from './plan.js';
import { macvlanUse } from './check-macvlan.js';
import { keptAfterEdit, keptByNode } from './check-leaving.js';
import { nicReportKeeps } from '../api/nic-report.js';
import { externalAnnounced, externalCountProblems } from './check-external.js';
import { blockConflicts, nodesRoutedBy } from './check-conflicts.js';
import { misplacedNics, overlaps, type Held, type HostBlock, type NicHome } from './check-overlaps.js';
import { readAuditInput, type AuditInput, type ClaimEntry, type ContainerAddress, type Kv, type StoredObject } from './check-input.js';
import { printable } from '../printable.js';

export interface IpamCheckReport { text: string; problems: number }

export interface PoolUse { pool: string; what: string; used: number; free?: number }
export interface IpamAudit {
  pools: PoolUse[];
  leaks: string[];
  duplicates: string[];
  unclaimed: string[];
  /** ClusterNetwork NICs whose address is outside the subnet of their status.hostSubnet */
  misplaced: string[];
  /** claims over an address a Node is routed by (nodeAddressClashes) */
  nodeAddresses: string[];
  /** not problems: what a user may want to know (addresses in use outside a shrunk range) */
  notes: string[];
  claims: number;
}

/** `pool`: a claim's type/pool; `about`: what the sweep needs to know of a HostSubnet block or NIC (check-overlaps.ts) */
type Announce = (pool: string, iv: Interval, who: string, about?: { block?: HostBlock; nic?: NicHome; containers?: boolean }) => void;

/** A claim kept by its node's report (a gone HostSubnet's block, a block a live one held before an edit: `edited`, a NIC's old address), and that node. */
type Kept = { c: ClaimEntry; node: string; edited?: boolean };

/** Pure audit of the keys under one prefix. */
export function auditIpam(kvs: Kv[], prefix = DEFAULT_PREFIX): IpamAudit {
  const input = readAuditInput(kvs, prefix);
  const { leaks, backed, kept } = checkClaims(input);
  const { announced, unclaimed } = checkAnnounced(input, backed, kept);
  const counted = externalCountProblems(input.statuses, marksOf(input));
  const twice = blockConflicts(input);
  return {
    pools: poolUses(input),
    leaks: [...input.undecodable, ...leaks, ...counted.leaks],
    duplicates: [...overlaps(announced), ...twice.duplicates],
    unclaimed: [...unclaimed, ...counted.unclaimed],
    misplaced: misplacedNics(input.objects, input.statuses),
    nodeAddresses: nodeAddressClashes(input),
    notes: [...outsideRangeNotes(input), ...twice.notes],
    claims: input.claims.length,
  };
}

/** How many external marks each MacvlanNet holds (its claims, of its uid: check-external.ts). */
function marksOf(input: AuditInput): Map<string, number> {
  const n = new Map<string, number>();
  for (const c of input.claims) {
    if (c.claim.role !== 'external' || c.claim.owner.kind !== 'MacvlanNet') continue;
    if (input.objects.get(`MacvlanNet/${c.claim.owner.name}`)?.metadata.uid === c.claim.owner.uid) n.set(c.claim.owner.name, (n.get(c.claim.owner.name) ?? 0) + 1);
  }
  return n;
}

/**
 * Claims over an address a Node is routed by (its spec.address, else the address the
 * controller accepted, as in controller/model.ts nodeRoutedBy): a container given the host's
 * own LAN address, or a block holding it. The controller hands out no such address now, but
 * keeps one it handed out before the Node was routed by it, and xctl refuses pools over one;
 * a pool written around xctl (or stored before it checked) can still have it.
 */
function nodeAddressClashes(input: AuditInput): string[] {
  const routed = nodesRoutedBy(input.objects, input.statuses);
  const out: string[] = [];
  for (const c of input.claims) {
    // an address marked external answered a probe: held outside xnet, a host's own among them
    const iv = c.claim.role === 'external' ? undefined : c.claim.cidr ? cidrIv(c.claim.cidr) : { first: c.ip, last: c.ip };
    if (!iv) continue;
    const hit = iv.first === iv.last ? (routed.has(iv.first) ? iv.first : undefined) : [...routed.keys()].find((ip) => ip >= iv.first && ip <= iv.last);
    if (hit !== undefined) out.push(`${claimName(c)} holds the address Node "${routed.get(hit)}" is routed by`);
  }
  return out;
}

/**
 * Per MacvlanNet, how many addresses its nodes' containers use outside its range (an edit
 * shrank it under them): they keep them, claimed for their node until removed, so that is no
 * problem, but it is why such a pool holds more than its range.
 */
function outsideRangeNotes(input: AuditInput): string[] {
  const out: string[] = [];
  for (const [id, o] of input.objects) {
    if (!id.startsWith('MacvlanNet/')) continue;
    const name = o.metadata.name;
    let range: Interval[];
    try { range = macvlanRange(o.spec as MacvlanNet['spec']); } catch { continue; }
    const n = new Set(input.containerAddrs.filter((a) => a.mvn === name && !contains(range, ipNum(a.ip) ?? -1)).map((a) => a.ip)).size;
    if (n) out.push(`MacvlanNet "${name}": ${n} address(es) in use outside its range (kept by their containers, claimed for their nodes until removed)`);
  }
  return out;
}


/** A pool as every other output of xctl names its object, kind/name (`clusternetwork/apps`); its claims' keys keep the plural. */
const poolName = (type: string, pool: string) => `${type === 'clusternetworks' ? 'clusternetwork' : 'macvlannet'}/${pool}`;

const claimName = (c: ClaimEntry) => `${poolName(c.type, c.pool)} ${c.claim.cidr ?? c.claim.ip} (${c.claim.owner.kind} "${c.claim.owner.name}"${c.claim.node ? ` node ${c.claim.node}` : ''})`;

/** Claims -> owner must exist with the same uid and announce the claim. */
function checkClaims(input: AuditInput): { leaks: string[]; backed: Set<string>; kept: Kept[] } {
  const leaks: string[] = [];
  const backed = new Set<string>();
  const kept: Kept[] = [];
  const nodeHolds = (n: string) => input.objects.has(`Node/${n}`) || input.unreadable.has(`Node/${n}`);
  for (const c of input.claims) {
    const o = c.claim.owner;
    const owner = input.objects.get(`${o.kind}/${o.name}`);
    const node = c.claim.node;
    if (o.kind === 'HostSubnet' && owner?.metadata.uid !== o.uid && keptByNode(input.hsReports.get(o.name), node, o.uid, nodeHolds)) { kept.push({ c, node: node! }); continue; }
    if (!owner) { leaks.push(`${claimName(c)}: owner does not exist`); continue; }
    if (owner.metadata.uid !== o.uid) { leaks.push(`${claimName(c)}: owner was deleted and re-created (uid ${o.uid} is gone)`); continue; }
    const announces = ownerAnnounces(c, owner, input.statuses.get(`${o.kind}/${o.name}`));
    if (!announces && o.kind === 'HostSubnet' && node === (owner.spec as HostSubnet['spec']).node
      && keptAfterEdit(input.hsReports.get(o.name), node, o.uid, c.claim.cidr, nodeHolds)) { kept.push({ c, node: node!, edited: true }); continue; }
    // a NIC's old address its old node still reports it with (api/nic-report.ts)
    if (!announces && c.claim.role === 'nic' && node && nodeHolds(node) && nicReportKeeps(input.nicReports.get(`${o.name}/${node}`), c.claim.ip)) { kept.push({ c, node }); continue; }
    if (!announces) leaks.push(`${claimName(c)}: the owner's status does not announce it`);
    else backed.add(`${o.kind}/${o.name}/${c.claim.role}/${c.claim.cidr ?? c.claim.ip}/${c.claim.node ?? ''}`);
  }
  return { leaks, backed, kept };
}

function ownerAnnounces(c: ClaimEntry, owner: StoredObject, st: Status | undefined): boolean {
  if (c.claim.role === 'nic') {
    const net = (owner.spec as ContainerNic['spec']).network;
    const poolOk = c.type === 'clusternetworks' ? net.clusterNetwork === c.pool : net.macvlanNet === c.pool;
    return poolOk && st?.ip === c.claim.ip;
  }
  if (c.claim.role === 'hostsubnet') return st?.subnet === c.claim.cidr && (owner.spec as HostSubnet['spec']).clusterNetwork === c.pool;
  const n = ((st?.nodes ?? []) as MacvlanNodeStatus[]).find((x) => x.name === c.claim.node);
  if (c.claim.role === 'docker-block') return n?.dockerRange === c.claim.cidr || n?.previousDockerRange === c.claim.cidr;
  if (c.claim.role === 'node-pool') return !!n?.addresses?.includes(c.claim.ip!) || !!n?.outsideRange?.includes(c.claim.ip!);
  if (c.claim.role === 'external') return externalAnnounced(st, c.claim.ip!);
  return n?.shimAddress === c.claim.ip;
}

/** Statuses -> every announced allocation must be backed by a claim. */
function checkAnnounced(input: AuditInput, backed: Set<string>, kept: Kept[]): { announced: Held[]; unclaimed: string[] } {
  const announced: Held[] = [];
  const announce: Announce = (pool, iv, who, about) => { const [type, name] = pool.split('/'); announced.push({ iv, who, pool: poolName(type, name), ...about }); };
  const unclaimed: string[] = [];
  for (const [id, o] of input.objects) {
    const [kind, name] = id.split('/');
    const st = input.statuses.get(id);
    if (!st) continue;
    if (kind === 'ContainerNic') unclaimed.push(...nicAnnounced(name, o, st, backed, announce));
    else if (kind === 'HostSubnet') unclaimed.push(...hostSubnetAnnounced(name, o, st, backed, announce));
    else if (kind === 'MacvlanNet') unclaimed.push(...macvlanAnnounced(name, st, backed, announce));
  }
  unclaimed.push(...checkContainerAddresses(input.containerAddrs, input.statuses, announce));
  for (const { c, node, edited } of kept) {
    if (c.claim.role === 'nic') {
      const nic = c.type === 'clusternetworks' ? { clusterNetwork: c.pool, node } : undefined;
      announce(`${c.type}/${c.pool}`, { first: c.ip, last: c.ip }, `ContainerNic "${c.claim.owner.name}" ${c.claim.ip} (its old address; kept while node ${node} reports it)`, { nic });
      continue;
    }
    const iv = cidrIv(c.claim.cidr ?? '');
    if (iv) announce(`${c.type}/${c.pool}`, iv, `HostSubnet "${c.claim.owner.name}" ${c.claim.cidr} (${edited ? 'its subnet before an edit' : 'deleted'}; kept while its network is on node ${node})`, { block: { name: c.claim.owner.name, clusterNetwork: c.pool, node } });
  }
  return { announced, unclaimed };
}

function nicAnnounced(name: string, o: StoredObject, st: Status, backed: Set<string>, announce: Announce): string[] {
  if (typeof st.ip !== 'string') return [];
  const { network: net, node } = o.spec as ContainerNic['spec'];
  const pool = net.clusterNetwork ? `clusternetworks/${net.clusterNetwork}` : `macvlannets/${net.macvlanNet}`;
  const nic = net.clusterNetwork ? { clusterNetwork: net.clusterNetwork, node, ...(typeof st.hostSubnet === 'string' ? { hostSubnet: st.hostSubnet } : {}) } : undefined;
  const ip = ipNum(st.ip);
  if (ip !== undefined) announce(pool, { first: ip, last: ip }, `ContainerNic "${name}" ${st.ip}`, { nic });
  if (backed.has(`ContainerNic/${name}/nic/${st.ip}/${(o.spec as ContainerNic['spec']).node}`) || hasBacking(backed, `ContainerNic/${name}/nic/${st.ip}/`)) return [];
  return [`ContainerNic "${name}" announces ${st.ip} but no claim backs it`];
}

function hostSubnetAnnounced(name: string, o: StoredObject, st: Status, backed: Set<string>, announce: Announce): string[] {
  if (typeof st.subnet !== 'string') return [];
  const { clusterNetwork, node } = o.spec as HostSubnet['spec'];
  const iv = cidrIv(st.subnet);
  if (iv) announce(`clusternetworks/${clusterNetwork}`, iv, `HostSubnet "${name}" ${st.subnet}`, { block: { name, clusterNetwork, node } });
  return hasBacking(backed, `HostSubnet/${name}/hostsubnet/${st.subnet}/`) ? [] : [`HostSubnet "${name}" announces ${st.subnet} but no claim backs it`];
}

function macvlanAnnounced(name: string, st: Status, backed: Set<string>, announce: Announce): string[] {
  const out: string[] = [];
  for (const n of (st.nodes ?? []) as MacvlanNodeStatus[]) {
    for (const range of [n.dockerRange, n.previousDockerRange]) {
      if (!range) continue;
      const iv = cidrIv(range);
      if (iv) announce(`macvlannets/${name}`, iv, `MacvlanNet "${name}" Docker block of node ${n.name} ${range}`);
      if (!backed.has(`MacvlanNet/${name}/docker-block/${range}/${n.name}`)) out.push(`MacvlanNet "${name}" announces Docker block ${range} for node ${n.name} but no claim backs it`);
    }
    if (n.shimAddress) {
      const ip = ipNum(n.shimAddress);
      if (ip !== undefined) announce(`macvlannets/${name}`, { first: ip, last: ip }, `MacvlanNet "${name}" shim of node ${n.name} ${n.shimAddress}`);
      if (!backed.has(`MacvlanNet/${name}/shim/${n.shimAddress}/${n.name}`)) out.push(`MacvlanNet "${name}" announces shim ${n.shimAddress} for node ${n.name} but no claim backs it`);
    }
  }
  return out;
}

/** Use per pool, and the claims of pools that no longer exist. */
function poolUses(input: AuditInput): PoolUse[] {
  const pools: PoolUse[] = [];
  for (const [id, o] of input.objects) {
    const [kind, name] = id.split('/');
    if (kind === 'ClusterNetwork') pools.push(...clusterNetworkUse(input, name, o.spec as ClusterNetwork['spec']));
    else if (kind === 'MacvlanNet') pools.push({ pool: poolName('macvlannets', name), ...macvlanUse(input.claims.filter((c) => c.type === 'macvlannets' && c.pool === name), input.containerAddrs, name, o.spec as MacvlanNet['spec']) });
  }
  const { claims, objects } = input;
  for (const c of claims) {
    const owned = objects.has(`${c.type === 'clusternetworks' ? 'ClusterNetwork' : 'MacvlanNet'}/${c.pool}`);
    if (!owned && !pools.some((p) => p.pool === poolName(c.type, c.pool))) pools.push({ pool: poolName(c.type, c.pool), what: 'claims of a pool that no longer exists', used: claims.filter((x) => x.type === c.type && x.pool === c.pool).length });
  }
  return pools;
}

function clusterNetworkUse(input: AuditInput, name: string, spec: ClusterNetwork['spec']): PoolUse[] {
  const blocks = input.claims.filter((c) => c.type === 'clusternetworks' && c.pool === name && c.space === 'blocks').length;
  let total = 0;
  try { total = slotCount(spec); } catch { /* invalid spec: 0 */ }
  let cap = 0;
  for (const [hid, h] of input.objects) {
    if (!hid.startsWith('HostSubnet/') || (h.spec as HostSubnet['spec']).clusterNetwork !== name) continue;
    const st = input.statuses.get(hid);
    if (st?.subnet && st.gateway && st.dockerRange) {
      try { cap += size(hostSubnetXnetRange({ subnet: st.subnet as string, gateway: st.gateway as string, dockerRange: st.dockerRange as string, bridge: '' })); } catch { /* skip */ }
    }
  }
  const addrs = input.claims.filter((c) => c.type === 'clusternetworks' && c.pool === name && c.space === 'addresses').length;
  return [
    { pool: poolName('clusternetworks', name), what: `/${spec.hostPrefix} host blocks`, used: blocks, free: Math.max(0, total - blocks) },
    { pool: poolName('clusternetworks', name), what: 'ContainerNic addresses', used: addrs, free: Math.max(0, cap - addrs) },
  ];
}

function hasBacking(backed: Set<string>, prefix: string): boolean {
  for (const b of backed) if (b.startsWith(prefix)) return true;
  return false;
}

// Statuses are read as written, so a malformed one is skipped here rather than failing the audit.
function ipNum(s: string): number | undefined {
  try { return parseIPv4(s); } catch { return undefined; }
}

const cidrIv = (s: string): Interval | undefined => { try { return cidrInterval(parseCidr(s)); } catch { return undefined; } };

export function formatAudit(a: IpamAudit): IpamCheckReport {
  const lines: string[] = [];
  const w = Math.max(4, ...a.pools.map((p) => p.pool.length));
  lines.push(`${'POOL'.padEnd(w)}  ${'USED'.padStart(8)}  ${'FREE'.padStart(8)}  WHAT`);
  for (const p of a.pools) lines.push(`${p.pool.padEnd(w)}  ${String(p.used).padStart(8)}  ${(p.free === undefined ? '-' : String(p.free)).padStart(8)}  ${p.what}`);
  const section = (title: string, list: string[]) => {
    lines.push(`${title}: ${list.length}`);
    // nodes' words are in them (a container's name a node reports): one problem stays one line, drawing nothing
    for (const x of list) lines.push(`  ${printable(x)}`);
  };
  section('leaks', a.leaks);
  section('duplicates', a.duplicates);
  section('unclaimed', a.unclaimed);
  section('misplaced', a.misplaced);
  section('node addresses', a.nodeAddresses);
  for (const n of a.notes) lines.push(`note: ${printable(n)}`);
  const problems = a.leaks.length + a.duplicates.length + a.unclaimed.length + a.misplaced.length + a.nodeAddresses.length;
  lines.push(problems ? `${problems} problem(s) found` : `ok: ${a.claims} claims, no leaks, no duplicates`);
  return { text: lines.join('\n') + '\n', problems };
}

export async function ipamCheck(client: Etcd3, prefix = DEFAULT_PREFIX): Promise<IpamCheckReport> {
  const { kvs } = await listPrefix(client, `${prefix}/`);
  return formatAudit(auditIpam(kvs, prefix));
}


/** Every container address must be one the controller pre-claimed for that node; overlaps are duplicates. */
function checkContainerAddresses(list: ContainerAddress[], statuses: Map<string, Status>, announce: Announce): string[] {
  const out: string[] = [];
  for (const a of list) {
    const ip = ipNum(a.ip);
    if (ip === undefined) continue;
    announce(`macvlannets/${a.mvn}`, { first: ip, last: ip }, `MacvlanNet "${a.mvn}" ${a.ip} (${a.who})`, { containers: true });
    const n = ((statuses.get(`MacvlanNet/${a.mvn}`)?.nodes ?? []) as MacvlanNodeStatus[]).find((x) => x.name === a.node);
    if (!n?.addresses?.includes(a.ip) && !n?.outsideRange?.includes(a.ip)) out.push(`MacvlanNet "${a.mvn}" ${a.ip} is used by ${a.who} but no claim of that node backs it`);
  }
  return out;
}
