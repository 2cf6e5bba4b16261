// What `xctl ipam check` (check.ts) reads off the keys under one prefix, at one revision: the
// claims, the objects and their controller statuses, the nodes' reports on HostSubnets and
// MacvlanNets, and the addresses their IPAM plugins gave containers. A key that does not decode
// is named among the problems (undecodable), never a reason to fail the audit.
import type { ClusterNetwork, Kind, Status } from '../api/index.js';
import { MacvlanPartsRead } from './check-macvlan-parts.js';
import { Keys } from '../store/keys.js';
import { decodeObject, decodeStatus, UndecodableError } from '../store/decode.js';
import { decodeClaim, IpamKeys, type BlockNetwork, type Claim } from './keys.js';
import { splitMisfitBlockClaims } from './check-misfit.js';
import { ipamKeyProblem } from './release-mark.js';
import { decodeReport } from '../dockeripam/report.js';
import { readHsReport, type HsReport } from './check-leaving.js';
import type { ConflictInput } from './check-conflicts.js';

export interface Kv { key: string; value: string; /** when known: a block claim is judged by the network it was made under, a MacvlanNet's status keys by the MacvlanNet (check-macvlan-parts.ts) */ createRevision?: string; modRevision?: string }

export type ClaimEntry = { key: string; claim: Claim; type: string; pool: string; space: string; ip: number; createRevision?: string };
export type StoredObject = { metadata: { name: string; uid?: string }; spec: unknown };

export interface ContainerAddress { mvn: string; node: string; ip: string; who: string }

/** What the audit reads off the keys: claims, objects, controller statuses, container addresses. */
export interface AuditInput {
  objects: Map<string, StoredObject>;
  statuses: Map<string, Status>;
  claims: ClaimEntry[];
  /** claims that do not decode: nobody can tell whose they are, yet they hold their address */
  undecodable: string[];
  containerAddrs: ContainerAddress[];
  /** nodes' reports on HostSubnets, by HostSubnet name (check-leaving.ts) */
  hsReports: Map<string, HsReport[]>;
  /** "<Kind>/<name>" of objects whose key does not decode */
  unreadable: Set<string>;
  /** nodes' reports of ContainerNics, by "<NIC name>/<node>": decoded, or 'unreadable' (api/nic-report.ts) */
  nicReports: Map<string, object | 'unreadable'>;
  /** nodes' reports on MacvlanNets as parsed (check-conflicts.ts) */
  mvnReports: ConflictInput['mvnReports'];
}

/** The audit's input from the keys under `prefix`; a block claim that does not fit its network (check-misfit.ts) is undecodable. */
export function readAuditInput(kvs: Kv[], prefix: string): AuditInput {
  const keys = new Keys(prefix);
  const ipam = new IpamKeys(prefix);
  const input: AuditInput = { objects: new Map(), statuses: new Map(), claims: [], undecodable: [], containerAddrs: [], hsReports: new Map(), unreadable: new Set(), mvnReports: [], nicReports: new Map() };
  const indexed: Array<{ id: string; kind: Kind; key: string; node: string; value: string }> = [];
  const networks = new Map<string, BlockNetwork>();
  const mvnParts = new MacvlanPartsRead(keys, (key, detail) => input.undecodable.push(`${key}: the controller's status does not decode (${detail})`));
  for (const { key, value, createRevision, modRevision } of kvs) {
    if (mvnParts.file(key, value, { createRevision, modRevision })) continue;
    const c = ipam.parse(key);
    if (c) {
      const d = decodeClaim(value, c);
      if ('claim' in d) input.claims.push({ key, claim: d.claim, type: c.type, pool: c.pool, space: c.space, ip: c.ip, createRevision });
      else input.undecodable.push(`${key}: ${d.error}`);
      continue;
    }
    // an address spelt otherwise than a claim key's is a second key of it (release-mark.ts ipamKeyProblem)
    if (key.startsWith(ipam.root())) { const why = ipamKeyProblem(ipam, key, value); if (why) input.undecodable.push(why); continue; }
    const o = keys.parseObjectKey(key);
    if (o) {
      const obj = decodedOr(input, key, 'the object', () => decodeObject(o.kind, o.name, key, value, 0));
      if (obj) input.objects.set(`${o.kind}/${o.name}`, obj as StoredObject); else input.unreadable.add(`${o.kind}/${o.name}`);
      if (obj && o.kind === 'ClusterNetwork') networks.set(o.name, { hostPrefix: (obj.spec as ClusterNetwork['spec']).hostPrefix, createRevision });
      continue;
    }
    const ix = keys.parseIndexedStatus(key);
    if (ix) { indexed.push({ id: `${ix.kind}/${ix.name}`, kind: ix.kind, key, node: ix.node, value }); continue; }
    const s = keys.parseStatusKey(key);
    if (s && 'controller' in s.writer) {
      const st = decodedOr(input, key, 'the controller\'s status', () => decodeStatus(s.kind, key, value));
      if (st) input.statuses.set(`${s.kind}/${s.name}`, st);
    }
    if (s && 'node' in s.writer && s.kind === 'HostSubnet') input.hsReports.set(s.name, [...input.hsReports.get(s.name) ?? [], readHsReport(s.writer.node, value)]);
    if (s && 'node' in s.writer && s.kind === 'ContainerNic') input.nicReports.set(`${s.name}/${s.writer.node}`, nicReport(key, value));
    if (s && 'node' in s.writer && s.kind === 'MacvlanNet') input.mvnReports.push({ mvn: s.name, node: s.writer.node, report: parsedOr(value) });
    if (s && 'node' in s.writer && s.kind === 'MacvlanNet') { try { input.containerAddrs.push(...containerAddresses(s.name, s.writer.node, JSON.parse(value))); } catch { /* ignore */ } }
  }
  // A status kept in a node's index is the object's only where the object is bound now.
  for (const x of indexed) {
    if ((input.objects.get(x.id) as { spec?: { node?: unknown } } | undefined)?.spec?.node !== x.node) continue;
    const st = decodedOr(input, x.key, 'the controller\'s status', () => decodeStatus(x.kind, x.key, x.value));
    if (st) input.statuses.set(x.id, st);
  }
  mvnParts.join(input.statuses);
  const held = splitMisfitBlockClaims(input.claims, (cn) => networks.get(cn));
  return { ...input, claims: held.fit, undecodable: [...input.undecodable, ...held.misfits] };
}

/** A node's report of a ContainerNic as decoded; one that does not decode is 'unreadable' (it keeps what it says nothing of). */
function nicReport(key: string, value: string): object | 'unreadable' {
  try {
    return decodeStatus('ContainerNic', key, value);
  } catch (e) {
    if (!(e instanceof UndecodableError)) throw e;
    return 'unreadable';
  }
}

/** A node's report as parsed; not JSON: a value no schema decodes (named where it is read). */
function parsedOr(value: string): unknown {
  try { return JSON.parse(value); } catch { return value; }
}

/** What `decode` returns; a value that does not decode is named among the problems instead. */
function decodedOr<T>(input: AuditInput, key: string, what: string, decode: () => T): T | undefined {
  try { return decode(); } catch (e) {
    if (!(e instanceof UndecodableError)) throw e;
    input.undecodable.push(`${key}: ${what} does not decode (${e.detail})`);
    return undefined;
  }
}

/** The addresses a node's IPAM plugin gave to Docker containers, from its MacvlanNet status. */
function containerAddresses(mvn: string, node: string, status: Status): ContainerAddress[] {
  const r = decodeReport(status.ipam);
  return (r?.assigned ?? []).map((a) => ({ mvn, node, ip: a.ip, who: `container ${a.name ?? a.container ?? '(being created)'} on node ${node}` }));
}
