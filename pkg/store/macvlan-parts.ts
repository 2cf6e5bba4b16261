// A MacvlanNet's controller status is kept in three kinds of keys (docs/design.md), so that a
// container started on one node costs the other nodes' agents no watch event and no key grows
// with nodes x addresses (docs/scale.md, issue 10):
//   - status/controller/macvlannets/<name> (every agent watches it): conditions, external
//     marks, poolUsedUp, conflicts, and per node only what other nodes act on (`SHARED`:
//     its shim, its containers' addresses outside the range, what it is asked to give back);
//   - bynode/<node>/status/controller/macvlannets/<name> (only that node's agent watches it):
//     the node's whole part (its pre-claims, limits, refusals, marks, ready, message);
//   - status/pools/macvlannets/<name> (no agent watches it): allocated, free, cooling, used.
// The split (controller) and the join (every reader: store, agent's view, audit) live here, so
// `status.nodes[]` reads as it always did. Pure; what is joined was decoded by the caller.
//
// A MacvlanNet deleted without its finalizer (stored by an older xctl or a raw write, or the
// finalizer removed by hand) goes at once with its status key only: its parts and pool counts
// stay until the controller's garbage pass. Applied again under that name before it, the old
// parts (the old pre-claims, which the controller may have freed) were joined for the new one,
// and its agent's IPAM plugin could hand them out. So every key is judged by its revision
// against the MacvlanNet's (writtenSinceMacvlanCreated); the values carry no uid to tell.
import { macvlanNodeStatus, type MacvlanNetStatus, type MacvlanNodeStatus, type Status } from '../api/index.js';
import { orphaned } from './status-cleanup.js';

/** The fields of a node's part that the shared key keeps: what the other nodes' agents act on (agent/events.ts othersPart, dockeripam/other-nodes.ts). */
const SHARED = ['name', 'shimAddress', 'outsideRange', 'giveBack'] as const;

/** The pool counts (status/pools/): they change with every container. */
const COUNTS = ['allocated', 'free', 'cooling', 'used'] as const;

/**
 * The fields of a node's part the shared key never keeps (the schema's, less `SHARED`); a field
 * unknown to this version (a later controller's) is not one of them.
 */
const PART_ONLY = new Set(Object.keys(macvlanNodeStatus.shape).filter((k) => !(SHARED as readonly string[]).includes(k)));

/** Whether a node's entry in the shared key holds a field it never keeps of a part (`PART_ONLY`): one written whole. */
export const isWhole = (entry: object): boolean => Object.keys(entry).some((k) => PART_ONLY.has(k));

/** What the shared key keeps of a node's part. */
export function sharedPart(part: MacvlanNodeStatus): MacvlanNodeStatus {
  const out: Record<string, unknown> = {};
  for (const f of SHARED) if (part[f] !== undefined) out[f] = part[f];
  return out as MacvlanNodeStatus;
}

export interface SplitStatus {
  /** status/controller/macvlannets/<name>: nodes[] holds sharedPart of each */
  shared: MacvlanNetStatus;
  /** status/pools/macvlannets/<name> */
  pool: Status;
  /** each node's whole part, for its index */
  parts: MacvlanNodeStatus[];
}

/** The keys' values for a MacvlanNet's status as the controller plans it (one whole status). */
export function splitMacvlanStatus(status: MacvlanNetStatus): SplitStatus {
  const pool: Status = {};
  const shared: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(status)) {
    if ((COUNTS as readonly string[]).includes(k)) pool[k] = v;
    else shared[k] = k === 'nodes' ? (v as MacvlanNodeStatus[]).map(sharedPart) : v;
  }
  return { shared: shared as MacvlanNetStatus, pool, parts: status.nodes ?? [] };
}

/** One key of a MacvlanNet's status as a reader holds it: its value and the revision it was last written at (undefined: not known, the key counts). */
export interface StatusKey { value: Status; modRevision?: number }

/**
 * Whether a key of a MacvlanNet's status last written at `modRevision` is the MacvlanNet's whose
 * key was created at `created` (undefined: not known, the key counts). The controller writes
 * these keys only in a transaction that compares the MacvlanNet's key (macvlan.ts), so one
 * written before that key was created is an earlier MacvlanNet's of the name: the rule for
 * nodes' statuses (status-cleanup.ts orphaned).
 */
export function writtenSinceMacvlanCreated(created: number | undefined, modRevision: number | undefined): boolean {
  return created === undefined || modRevision === undefined || !orphaned('MacvlanNet', modRevision, created);
}

/**
 * The status of the MacvlanNet whose key was created at `created`, joined (joinOwn) from those of
 * its keys written for it: a key of an earlier MacvlanNet of that name counts as absent.
 */
export function joinMacvlanStatus(created: number | undefined, shared: StatusKey | undefined, pool: StatusKey | undefined, partOf: (node: string) => StatusKey | undefined): Status | undefined {
  const own = (k: StatusKey | undefined) => (k && writtenSinceMacvlanCreated(created, k.modRevision) ? k.value : undefined);
  return joinOwn(own(shared), own(pool), (node) => own(partOf(node)));
}

/**
 * The MacvlanNet's status as one: the shared key's, the pool counts, and for each node the
 * shared key lists, its part from its index over what the shared key says of it. A part of a
 * node the shared key does not list is stale (a node no longer selected): left out. An entry
 * holding more than `SHARED` was written whole by a controller from before the split, which
 * writes no part (no part yet, or a leader again in a rolling upgrade, after a newer one left a
 * part it no longer keeps): read as it is, never joined with a part.
 */
function joinOwn(shared: Status | undefined, pool: Status | undefined, partOf: (node: string) => Status | undefined): Status | undefined {
  if (!shared) return undefined;
  // in the order the controller wrote the status as one key: observedGeneration, the counts, the rest
  const out: Status = shared.observedGeneration !== undefined ? { observedGeneration: shared.observedGeneration } : {};
  for (const k of COUNTS) if ((pool?.[k] ?? shared[k]) !== undefined) out[k] = pool?.[k] ?? shared[k];
  for (const [k, v] of Object.entries(shared)) {
    if (k === 'observedGeneration' || (COUNTS as readonly string[]).includes(k)) continue;
    out[k] = k === 'nodes' && Array.isArray(v) ? v.map((n: { name: string }) => {
      const part = isWhole(n) ? undefined : partOf(n.name);
      return part ? { ...n, ...part, name: n.name } : n;
    }) : v;
  }
  return out;
}
