// `xctl ipam check`: an audit of every claim against every owner, read at one etcd revision.
// Per pool: used and free. Problems: leaks (a claim whose owner is gone, is another object
// of the same name, or does not announce it in its status), duplicates (two owners announcing
// overlapping addresses in one pool) and unclaimed allocations (a status announcing an
// address no claim backs).
import type { Etcd3 } from 'etcd3';
import type { ClusterNetwork, ContainerNic, HostSubnet, MacvlanNet, MacvlanNodeStatus, Status } from '../api/index.js';
import { parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { Keys, DEFAULT_PREFIX } from '../store/keys.js';
import { listPrefix } from '../runtime/kv.js';
import { decodeClaim, IpamKeys, type Claim } from './keys.js';
import { cidrInterval, size, subtract, normalize, type Interval } from './ranges.js';
import { hostSubnetXnetRange, slotCount } from './plan.js';
import { macvlanUsage } from './macvlan-usage.js';
import { decodeReport } from '../dockeripam/report.js';

export interface IpamCheckReport { text: string; problems: number }

export interface PoolUse { pool: string; what: string; used: number; free?: number }
export interface IpamAudit {
  pools: PoolUse[];
  leaks: string[];
  duplicates: string[];
  unclaimed: string[];
  claims: number;
}

interface Kv { key: string; value: string }

/** Pure audit of the keys under one prefix. */
export function auditIpam(kvs: Kv[], prefix = DEFAULT_PREFIX): IpamAudit {
  const keys = new Keys(prefix);
  const ipam = new IpamKeys(prefix);
  const objects = new Map<string, { metadata: { name: string; uid?: string }; spec: unknown }>();
  const statuses = new Map<string, Status>();
  const claims: Array<{ key: string; claim: Claim; type: string; pool: string; space: string; ip: number }> = [];
  const leaks: string[] = [];
  const containerAddrs: ContainerAddress[] = [];
  for (const { key, value } of kvs) {
    const c = ipam.parse(key);
    if (c) {
      // Nobody can tell whose it is, yet it keeps the address from being allocated.
      const d = decodeClaim(value);
      if ('claim' in d) claims.push({ key, claim: d.claim, type: c.type, pool: c.pool, space: c.space, ip: c.ip });
      else leaks.push(`${key}: ${d.error}`);
      continue;
    }
    const o = keys.parseObjectKey(key);
    if (o) { try { objects.set(`${o.kind}/${o.name}`, JSON.parse(value)); } catch { /* ignore */ } continue; }
    const s = keys.parseStatusKey(key);
    if (s && 'controller' in s.writer) { try { statuses.set(`${s.kind}/${s.name}`, JSON.parse(value)); } catch { /* ignore */ } }
    if (s && 'node' in s.writer && s.kind === 'MacvlanNet') { try { containerAddrs.push(...containerAddresses(s.name, s.writer.node, JSON.parse(value))); } catch { /* ignore */ } }
  }
  const unclaimed: string[] = [];
  const duplicates: string[] = [];
  const claimName = (c: (typeof claims)[number]) => `${c.type}/${c.pool} ${c.claim.cidr ?? c.claim.ip} (${c.claim.owner.kind} "${c.claim.owner.name}"${c.claim.node ? ` node ${c.claim.node}` : ''})`;

  // Claims -> owner must exist with the same uid and announce the claim.
  const backed = new Set<string>();
  for (const c of claims) {
    const o = c.claim.owner;
    const owner = objects.get(`${o.kind}/${o.name}`);
    if (!owner) { leaks.push(`${claimName(c)}: owner does not exist`); continue; }
    if (owner.metadata.uid !== o.uid) { leaks.push(`${claimName(c)}: owner was deleted and re-created (uid ${o.uid} is gone)`); continue; }
    const st = statuses.get(`${o.kind}/${o.name}`);
    let announced = false;
    if (c.claim.role === 'nic') {
      const net = (owner.spec as ContainerNic['spec']).network;
      const poolOk = c.type === 'clusternetworks' ? net.clusterNetwork === c.pool : net.macvlanNet === c.pool;
      announced = poolOk && st?.ip === c.claim.ip;
    } else if (c.claim.role === 'hostsubnet') {
      announced = st?.subnet === c.claim.cidr && (owner.spec as HostSubnet['spec']).clusterNetwork === c.pool;
    } else {
      const n = ((st?.nodes ?? []) as MacvlanNodeStatus[]).find((x) => x.name === c.claim.node);
      announced = c.claim.role === 'docker-block' ? n?.dockerRange === c.claim.cidr
        : c.claim.role === 'node-pool' ? !!n?.addresses?.includes(c.claim.ip!)
          : c.claim.role === 'external' ? ((st?.external ?? []) as string[]).includes(c.claim.ip!)
            : n?.shimAddress === c.claim.ip;
    }
    if (!announced) leaks.push(`${claimName(c)}: the owner's status does not announce it`);
    else backed.add(`${o.kind}/${o.name}/${c.claim.role}/${c.claim.cidr ?? c.claim.ip}/${c.claim.node ?? ''}`);
  }

  // Statuses -> every announced allocation must be backed; overlaps within a pool are duplicates.
  const announced = new Map<string, Array<{ iv: Interval; who: string }>>();
  const announce = (pool: string, iv: Interval, who: string) => {
    let l = announced.get(pool);
    if (!l) announced.set(pool, (l = []));
    l.push({ iv, who });
  };
  for (const [id, o] of objects) {
    const [kind, name] = id.split('/');
    const st = statuses.get(id);
    if (!st) continue;
    if (kind === 'ContainerNic' && typeof st.ip === 'string') {
      const net = (o.spec as ContainerNic['spec']).network;
      const pool = net.clusterNetwork ? `clusternetworks/${net.clusterNetwork}` : `macvlannets/${net.macvlanNet}`;
      const ip = ipNum(st.ip);
      if (ip !== undefined) announce(pool, { first: ip, last: ip }, `ContainerNic "${name}" ${st.ip}`);
      if (!backed.has(`ContainerNic/${name}/nic/${st.ip}/${(o.spec as ContainerNic['spec']).node}`) && !hasBacking(backed, `ContainerNic/${name}/nic/${st.ip}/`)) {
        unclaimed.push(`ContainerNic "${name}" announces ${st.ip} but no claim backs it`);
      }
    } else if (kind === 'HostSubnet' && typeof st.subnet === 'string') {
      const pool = `clusternetworks/${(o.spec as HostSubnet['spec']).clusterNetwork}`;
      const iv = cidrIv(st.subnet);
      if (iv) announce(`${pool}#blocks`, iv, `HostSubnet "${name}" ${st.subnet}`);
      if (!hasBacking(backed, `HostSubnet/${name}/hostsubnet/${st.subnet}/`)) unclaimed.push(`HostSubnet "${name}" announces ${st.subnet} but no claim backs it`);
    } else if (kind === 'MacvlanNet') {
      for (const n of (st.nodes ?? []) as MacvlanNodeStatus[]) {
        if (n.dockerRange) {
          const iv = cidrIv(n.dockerRange);
          if (iv) announce(`macvlannets/${name}`, iv, `MacvlanNet "${name}" Docker block of node ${n.name} ${n.dockerRange}`);
          if (!backed.has(`MacvlanNet/${name}/docker-block/${n.dockerRange}/${n.name}`)) unclaimed.push(`MacvlanNet "${name}" announces Docker block ${n.dockerRange} for node ${n.name} but no claim backs it`);
        }
        if (n.shimAddress) {
          const ip = ipNum(n.shimAddress);
          if (ip !== undefined) announce(`macvlannets/${name}`, { first: ip, last: ip }, `MacvlanNet "${name}" shim of node ${n.name} ${n.shimAddress}`);
          if (!backed.has(`MacvlanNet/${name}/shim/${n.shimAddress}/${n.name}`)) unclaimed.push(`MacvlanNet "${name}" announces shim ${n.shimAddress} for node ${n.name} but no claim backs it`);
        }
      }
    }
  }
  unclaimed.push(...checkContainerAddresses(containerAddrs, statuses, announce));
  for (const list of announced.values()) {
    list.sort((a, b) => a.iv.first - b.iv.first);
    let maxLast = -1;
    let holder: (typeof list)[number] | undefined;
    for (const x of list) {
      if (holder && x.iv.first <= maxLast) duplicates.push(`${x.who} overlaps ${holder.who}`);
      if (x.iv.last > maxLast) { maxLast = x.iv.last; holder = x; }
    }
  }

  // Use per pool.
  const pools: PoolUse[] = [];
  for (const [id, o] of objects) {
    const [kind, name] = id.split('/');
    if (kind === 'ClusterNetwork') {
      const spec = (o.spec as ClusterNetwork['spec']);
      const blocks = claims.filter((c) => c.type === 'clusternetworks' && c.pool === name && c.space === 'blocks').length;
      let total = 0;
      try { total = slotCount(spec); } catch { /* invalid spec: 0 */ }
      pools.push({ pool: `clusternetworks/${name}`, what: `/${spec.hostPrefix} host blocks`, used: blocks, free: Math.max(0, total - blocks) });
      let cap = 0;
      for (const [hid, h] of objects) {
        if (!hid.startsWith('HostSubnet/') || (h.spec as HostSubnet['spec']).clusterNetwork !== name) continue;
        const st = statuses.get(hid);
        if (st?.subnet && st.gateway && st.dockerRange) {
          try { cap += size(hostSubnetXnetRange({ subnet: st.subnet as string, gateway: st.gateway as string, dockerRange: st.dockerRange as string, bridge: '' })); } catch { /* skip */ }
        }
      }
      const addrs = claims.filter((c) => c.type === 'clusternetworks' && c.pool === name && c.space === 'addresses').length;
      pools.push({ pool: `clusternetworks/${name}`, what: 'ContainerNic addresses', used: addrs, free: Math.max(0, cap - addrs) });
    } else if (kind === 'MacvlanNet') {
      const spec = o.spec as MacvlanNet['spec'];
      const mine = claims.filter((c) => c.type === 'macvlannets' && c.pool === name);
      const u = macvlanUsage(spec, mine.map((c) => c.claim));
      const byRole = (r: string) => mine.filter((c) => c.claim.role === r).length;
      const inUse = containerAddrs.filter((a) => a.mvn === name).length;
      pools.push({ pool: `macvlannets/${name}`, what: `addresses (${byRole('docker-block')} Docker blocks, ${byRole('node-pool')} pre-claimed for nodes of which ${inUse} in containers, ${byRole('external')} external, ${mine.length - byRole('docker-block') - byRole('node-pool') - byRole('external')} other single)`, used: u.allocated, free: u.free });
    }
  }
  for (const c of claims) {
    const owned = objects.has(`${c.type === 'clusternetworks' ? 'ClusterNetwork' : 'MacvlanNet'}/${c.pool}`);
    if (!owned && !pools.some((p) => p.pool === `${c.type}/${c.pool}`)) pools.push({ pool: `${c.type}/${c.pool}`, what: 'claims of a pool that no longer exists', used: claims.filter((x) => x.type === c.type && x.pool === c.pool).length });
  }
  return { pools, leaks, duplicates, unclaimed, claims: claims.length };
}

function hasBacking(backed: Set<string>, prefix: string): boolean {
  for (const b of backed) if (b.startsWith(prefix)) return true;
  return false;
}

// Statuses are read as written, so a malformed one is skipped here rather than failing the audit.
function ipNum(s: string): number | undefined {
  try { return parseIPv4(s); } catch { return undefined; }
}

function cidrIv(s: string): Interval | undefined {
  try { return cidrInterval(parseCidr(s)); } catch { return undefined; }
}

export function formatAudit(a: IpamAudit): IpamCheckReport {
  const lines: string[] = [];
  const w = Math.max(4, ...a.pools.map((p) => p.pool.length));
  lines.push(`${'POOL'.padEnd(w)}  ${'USED'.padStart(8)}  ${'FREE'.padStart(8)}  WHAT`);
  for (const p of a.pools) lines.push(`${p.pool.padEnd(w)}  ${String(p.used).padStart(8)}  ${(p.free === undefined ? '-' : String(p.free)).padStart(8)}  ${p.what}`);
  const section = (title: string, list: string[]) => {
    lines.push(`${title}: ${list.length}`);
    for (const x of list) lines.push(`  ${x}`);
  };
  section('leaks', a.leaks);
  section('duplicates', a.duplicates);
  section('unclaimed', a.unclaimed);
  const problems = a.leaks.length + a.duplicates.length + a.unclaimed.length;
  lines.push(problems ? `${problems} problem(s) found` : `ok: ${a.claims} claims, no leaks, no duplicates`);
  return { text: lines.join('\n') + '\n', problems };
}

export async function ipamCheck(client: Etcd3, prefix = DEFAULT_PREFIX): Promise<IpamCheckReport> {
  const { kvs } = await listPrefix(client, `${prefix}/`);
  return formatAudit(auditIpam(kvs, prefix));
}


interface ContainerAddress { mvn: string; node: string; ip: string; who: string }

/** The addresses a node's IPAM plugin gave to Docker containers, from its MacvlanNet status. */
function containerAddresses(mvn: string, node: string, status: Status): ContainerAddress[] {
  const r = decodeReport(status.ipam);
  return (r?.assigned ?? []).map((a) => ({ mvn, node, ip: a.ip, who: `container ${a.name ?? a.container ?? '(being created)'} on node ${node}` }));
}

/** Every container address must be one the controller pre-claimed for that node; overlaps are duplicates. */
function checkContainerAddresses(list: ContainerAddress[], statuses: Map<string, Status>, announce: (pool: string, iv: Interval, who: string) => void): string[] {
  const out: string[] = [];
  for (const a of list) {
    const ip = ipNum(a.ip);
    if (ip === undefined) continue;
    announce(`macvlannets/${a.mvn}#containers`, { first: ip, last: ip }, `MacvlanNet "${a.mvn}" ${a.ip} (${a.who})`);
    const n = ((statuses.get(`MacvlanNet/${a.mvn}`)?.nodes ?? []) as MacvlanNodeStatus[]).find((x) => x.name === a.node);
    if (!n?.addresses?.includes(a.ip)) out.push(`MacvlanNet "${a.mvn}" ${a.ip} is used by ${a.who} but no claim of that node backs it`);
  }
  return out;
}
