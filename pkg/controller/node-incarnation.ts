// Which of a node's reports belong to its current Node. A node's reports on objects are not
// lease-bound and outlive a delete of its Node (only the reports about the Node go with it), so
// a Node deleted and made again under the same name finds the reports its former agent wrote.
// Those say nothing of an agent for this Node: counted, a re-made Node that no agent ever ran for
// showed NodeLost ("it ran and stopped") in place of AgentNotStarted, and its MacvlanNet parts the
// former agent's word. A report counts when it was last written after the Node key was created
// (its create_revision). What a report says of the host's containers (its IPAM facts) counts
// whenever written (ipam-report.ts): they run on whichever Node object names the host.
import { KINDS } from '../api/index.js';
import type { RawKv } from '../runtime/kv.js';

/** The entries right in a directory of the cache (KvCache.inDir: a lookup, not a scan). */
interface DirLookup { inDir(dir: string): Iterable<RawKv> }

/** The revision a report must be newer than to be the current Node's: its key's create_revision; 0 with no Node (all count). */
export function incarnationOf(nodeKv: RawKv | undefined): number {
  return nodeKv ? Number(nodeKv.createRevision) : 0;
}

/** Whether the report (a key's cached value) was written during the Node's current incarnation. */
export function reportOfCurrentNode(report: RawKv | undefined, since: number): boolean {
  return !!report && Number(report.modRevision) > since;
}

/**
 * Whether the node wrote a report on any object during the Node's incarnation: each kind's
 * directory under the node's status root (`root`) looked up, its entries read until one is new
 * enough (a node with none costs a lookup per kind, as before the revisions were compared).
 */
export function wroteReportsSince(cache: DirLookup, root: string, since: number): boolean {
  return KINDS.some((k) => {
    for (const kv of cache.inDir(root + k.plural)) if (reportOfCurrentNode(kv, since)) return true;
    return false;
  });
}
