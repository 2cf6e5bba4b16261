// The etcd key layout (docs/design.md). Every key xnet writes is built here.
import { kindInfo, KINDS, type Kind } from '../api/kinds.js';
import type { StatusWriter } from './types.js';
export { prefixEnd } from '../etcd/range.js';

export const DEFAULT_PREFIX = '/xnet';

/**
 * Kinds whose objects are also copied into the index of the node they are bound to (spec.node),
 * and whose controller status is kept there.
 */
export const INDEXED_KINDS: readonly Kind[] = ['ContainerNic'];

/** The node whose index holds copies of this object's keys, if any. */
export function indexNode(obj: { kind: Kind; spec?: unknown } | undefined): string | undefined {
  if (!obj || !INDEXED_KINDS.includes(obj.kind)) return undefined;
  const node = (obj.spec as { node?: unknown } | undefined)?.node;
  return typeof node === 'string' && node ? node : undefined;
}

/** Node index prefixes kept built (a bound: node names come from etcd) */
const MAX_REMEMBERED_NODES = 10_000;

/** What follows `bynode/<node>/` in an object key's copy kept in a node's index. */
const INDEXED_OBJECT_PART = 'objects/';

/** What follows `bynode/<node>/` in a controller status kept in a node's index. */
const INDEXED_STATUS_PART = 'status/controller/';

/**
 * What follows `bynode/<node>/` in a MacvlanNet's node part kept in that node's index: the
 * node's own part of the MacvlanNet's controller status (its pre-claims, limits, asks), which
 * changes with its containers and which no other agent reads (docs/design.md).
 */
const MACVLAN_PART_DIR = `${INDEXED_STATUS_PART}macvlannets/`;

/** What follows `status/` in a MacvlanNet's pool counts (allocated, free, used): no agent watches them. */
const MACVLAN_POOL_DIR = 'pools/macvlannets/';

/** The kind whose key segment is `plural`. */
const KIND_OF_PLURAL = new Map(KINDS.map((k) => [k.plural, k.kind]));

/** The indexed kind whose key segment is `plural` (in a node's index). */
const INDEXED_KIND_OF_PLURAL = new Map([...KIND_OF_PLURAL].filter(([, k]) => INDEXED_KINDS.includes(k)));

/** indexed kind -> where in a node's index its controller statuses are: "status/controller/<plural>/" */
const INDEXED_STATUS_DIR = new Map([...INDEXED_KIND_OF_PLURAL].map(([plural, k]) => [k, `${INDEXED_STATUS_PART}${plural}/`]));

export class Keys {
  // Roots built once: the controller classifies every key it sees with them, tens of
  // thousands per second in a burst, and a root built per call is a string made per call.
  private readonly objectsRoot: string;
  private readonly statusesRoot: string;
  private readonly indexRoot: string;
  private readonly registryRoot: string;
  private readonly objectsOf: ReadonlyMap<Kind, string>;
  private readonly controllerStatusesOf: ReadonlyMap<Kind, string>;

  constructor(readonly prefix: string = DEFAULT_PREFIX) {
    this.objectsRoot = `${prefix}/registry/objects/`;
    this.statusesRoot = `${prefix}/registry/status/`;
    this.indexRoot = `${prefix}/registry/bynode/`;
    this.registryRoot = `${prefix}/registry/`;
    this.objectsOf = new Map(KINDS.map((k) => [k.kind, `${this.objectsRoot}${k.plural}/`]));
    this.controllerStatusesOf = new Map(KINDS.map((k) => [k.kind, `${this.statusesRoot}controller/${k.plural}/`]));
  }

  objects(kind?: Kind): string {
    return kind ? this.objectsOf.get(kind) ?? `${this.objectsRoot}${kindInfo(kind).plural}/` : this.objectsRoot;
  }
  object(kind: Kind, name: string): string {
    return this.objects(kind) + name;
  }
  /** Prefix of all status keys (controller and nodes). */
  statusRoot(): string {
    return this.statusesRoot;
  }
  controllerStatuses(kind: Kind): string {
    return this.controllerStatusesOf.get(kind) ?? `${this.statusesRoot}controller/${kindInfo(kind).plural}/`;
  }
  nodeStatuses(node?: string): string {
    return node ? `${this.prefix}/registry/status/nodes/${node}/` : `${this.prefix}/registry/status/nodes/`;
  }
  status(kind: Kind, name: string, writer: StatusWriter): string {
    return 'controller' in writer
      ? this.controllerStatuses(kind) + name
      : `${this.nodeStatuses(writer.node)}${kindInfo(kind).plural}/${name}`;
  }
  /** objects and status share this prefix so one watch sees their writes in commit order */
  registry(): string {
    return this.registryRoot;
  }
  /**
   * A node's index: for the objects bound to that node whose kind is INDEXED_KINDS
   * (ContainerNics), a copy of the object key, written in the same transaction as the object,
   * and the controller's status itself (controllerStatus), so the node's agent watches its
   * own and no others.
   */
  nodeIndex(node: string): string {
    let p = this.nodeIndexes.get(node);
    if (p === undefined) {
      // one string per node, kept: the controller builds two index keys per NIC it allocates
      if (this.nodeIndexes.size >= MAX_REMEMBERED_NODES) this.nodeIndexes.clear();
      this.nodeIndexes.set(node, (p = `${this.indexRoot}${node}/`));
    }
    return p;
  }
  private readonly nodeIndexes = new Map<string, string>();
  /** Every node's index (what the admin and the controller keep up to date). */
  nodeIndexRoot(): string {
    return this.indexRoot;
  }
  /** The copy in `node`'s index of a registry key (objects/... or status/controller/...). */
  indexed(node: string, registryKey: string): string {
    return this.nodeIndex(node) + registryKey.slice(this.registry().length);
  }
  /**
   * Where the controller keeps its status of an object: for an indexed kind, in the index of
   * the node the object is bound to, and nowhere else (the agent reads it there, and a second
   * copy would double what the controller writes per NIC); else under status/controller/.
   * Undefined for an indexed object bound to no node (it has no status).
   */
  controllerStatus(kind: Kind, name: string, node: string | undefined): string | undefined {
    if (!INDEXED_KINDS.includes(kind)) return this.status(kind, name, { controller: true });
    // indexed(node, status key), made as one string: looked up several times per NIC planned
    return node ? this.nodeIndex(node) + INDEXED_STATUS_DIR.get(kind)! + name : undefined;
  }
  /** A controller status kept in a node's index (see controllerStatus): node, kind and name. */
  parseIndexedStatus(key: string): { node: string; kind: Kind; name: string } | undefined {
    return this.parseIndexed(key, INDEXED_STATUS_PART);
  }
  /** An object key's copy in a node's index (nodeIndex): node, kind and name. */
  parseIndexedObject(key: string): { node: string; kind: Kind; name: string } | undefined {
    return this.parseIndexed(key, INDEXED_OBJECT_PART);
  }
  /** `bynode/<node>/<part><plural>/<name>` for the plural of an indexed kind. */
  private parseIndexed(key: string, part: string): { node: string; kind: Kind; name: string } | undefined {
    const root = this.indexRoot;
    if (!key.startsWith(root)) return undefined;
    const slash = key.indexOf('/', root.length);
    // checked before any string is made: an index holds object copies and statuses side by side
    if (slash <= root.length || !key.startsWith(part, slash + 1)) return undefined;
    const named = nameIn(key, slash + 1 + part.length, INDEXED_KIND_OF_PLURAL);
    return named && { node: key.slice(root.length, slash), kind: named.kind, name: named.name };
  }
  /** A MacvlanNet's part of `node` (its own status.nodes[] entry, whole), kept in the node's index. */
  macvlanPart(node: string, name: string): string {
    return this.nodeIndex(node) + MACVLAN_PART_DIR + name;
  }
  /** A MacvlanNet's node part (macvlanPart): node and MacvlanNet name. */
  parseMacvlanPart(key: string): { node: string; name: string } | undefined {
    const root = this.indexRoot;
    if (!key.startsWith(root)) return undefined;
    const slash = key.indexOf('/', root.length);
    if (slash <= root.length || !key.startsWith(MACVLAN_PART_DIR, slash + 1)) return undefined;
    const name = key.slice(slash + 1 + MACVLAN_PART_DIR.length);
    return name && !name.includes('/') ? { node: key.slice(root.length, slash), name } : undefined;
  }
  /** Every MacvlanNet's pool counts (macvlanPool). */
  macvlanPools(): string {
    return this.statusesRoot + MACVLAN_POOL_DIR;
  }
  /** A MacvlanNet's pool counts (allocated, free, used), outside what any agent watches. */
  macvlanPool(name: string): string {
    return this.macvlanPools() + name;
  }
  /** The MacvlanNet whose pool counts `key` holds (macvlanPool). */
  parseMacvlanPool(key: string): string | undefined {
    const root = this.macvlanPools();
    const name = key.startsWith(root) ? key.slice(root.length) : '';
    return name && !name.includes('/') ? name : undefined;
  }
  /** The registry key an index key copies (undefined when `key` is not in `node`'s index). */
  unindexed(node: string, key: string): string | undefined {
    const p = this.nodeIndex(node);
    return key.startsWith(p) ? this.registry() + key.slice(p.length) : undefined;
  }
  ipam(): string {
    return `${this.prefix}/ipam/`;
  }
  nodeLease(node: string): string {
    return `${this.prefix}/leases/nodes/${node}`;
  }
  /** what a node's agent observed of its own host (pkg/verify/report.ts); '' gives the prefix */
  nodeObserved(node: string): string {
    return `${this.prefix}/observed/nodes/${node}`;
  }
  election(): string {
    return `${this.prefix}/election/controller`;
  }
  /** events a node reports about itself (only that node's credentials write here) */
  nodeEvents(node: string): string {
    return `${this.prefix}/events/nodes/${node}/`;
  }
  /** every event: outside registry/, so agents' registry watches never see them */
  events(): string {
    return `${this.prefix}/events/`;
  }
  /** events the controller reports */
  controllerEvents(): string {
    return `${this.prefix}/events/controller/`;
  }

  /** Classifies a key under /status/: which object and which writer it belongs to. */
  parseStatusKey(key: string): { kind: Kind; name: string; writer: StatusWriter } | undefined {
    const rest = key.startsWith(this.statusesRoot) ? key.slice(this.statusesRoot.length).split('/') : [];
    let writer: StatusWriter;
    let plural: string, name: string;
    if (rest[0] === 'controller' && rest.length === 3) {
      writer = { controller: true };
      [, plural, name] = rest;
    } else if (rest[0] === 'nodes' && rest.length === 4) {
      writer = { node: rest[1] };
      [, , plural, name] = rest;
    } else return undefined;
    const kind = KIND_OF_PLURAL.get(plural);
    return kind ? { kind, name, writer } : undefined;
  }

  parseObjectKey(key: string): { kind: Kind; name: string } | undefined {
    if (!key.startsWith(this.objectsRoot)) return undefined;
    return nameIn(key, this.objectsRoot.length, KIND_OF_PLURAL);
  }
}

/**
 * The kind and name of `key` from `at` on, when that is "<plural>/<name>" for a plural of
 * `kinds` and the name is not empty and has no '/'. No array of segments is made: the
 * controller classifies every key of its cache this way at start-up, tens of thousands.
 */
function nameIn(key: string, at: number, kinds: ReadonlyMap<string, Kind>): { kind: Kind; name: string } | undefined {
  const slash = key.indexOf('/', at);
  if (slash < 0) return undefined;
  const kind = kinds.get(key.slice(at, slash));
  if (!kind || slash + 1 >= key.length || key.indexOf('/', slash + 1) >= 0) return undefined;
  return { kind, name: key.slice(slash + 1) };
}
