// What apply and diff share: read and validate the manifests before touching etcd, then check
// them against what is stored.
import { storedKindsToCheck } from '../../api/validate-cross.js';
import { inUseReportsToRead, type NodeReports } from '../../api/validate-in-use-inside.js';
import type { AnyObject, ContainerNic } from '../../api/types.js';
import { overrideNodeWarnings, type KnownNode } from '../../api/macvlan-parent.js';
import { needsHostSubnets, networkLeftWarnings, networksLeft } from '../../api/node-leaving.js';
import { remadeNetworkWarnings } from '../../api/docker-network.js';
import type { ListResult, Store } from '../../store/types.js';
import { checkAgainstStore, InvalidBatchError, loadManifests, type LoadedObject } from '../../manifest/load.js';
import { ManifestError, type ManifestIssue } from '../../manifest/errors.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { UsageError } from '../exit.js';

export async function loadBatch(io: CliIO, filenames: string[] | undefined): Promise<LoadedObject[]> {
  if (!filenames?.length) throw new UsageError('-f FILE|DIR|- is required');
  return loadManifests(filenames, io.stdin);
}

/**
 * What apply and diff are given: the objects, and kubectl-style warnings: `warnings` about the
 * batch (accepted, probably not what was meant), `leaving` about what writing it takes away or
 * holds up (a Node that leaves a network: node-leaving.ts; a Docker network each node makes
 * again: docker-network.ts), said once it is written.
 */
export interface CheckedBatch { objects: AnyObject[]; warnings: string[]; leaving: Leaving[] }

/** A `leaving` warning, and the Node of the batch that leaves a network, when it is about one (what label writing in parts says of the parts written). */
export interface Leaving { text: string; node?: string }

/** Batch validated against stored objects: overlaps, static IPs outside or taken, Node addresses. */
export async function checkedBatch(session: Session, loaded: LoadedObject[]): Promise<CheckedBatch> {
  const objects = loaded.map((l) => l.object);
  const kinds = storedKindsToCheck(objects);
  if (!kinds.length) return { objects, warnings: [], leaving: [] };
  const store = session.store();
  const lists = await Promise.all(kinds.map((k) => store.list(k.kind, { withoutStatus: !k.withStatus, controllerStatusOnly: k.controllerStatusOnly })));
  const existing = lists.flatMap((l) => l.items);
  checkAgainstStore(loaded, existing, await inUseReports(store, objects, existing));
  // a batch with a MacvlanNet reads the Nodes already (storedKindsToCheck): its overrides are checked against them
  const nodes = lists.find((_, i) => kinds[i].kind === 'Node');
  const warnings = nodes ? overrideNodeWarnings(objects, storedNodes(nodes)) : [];
  const storedHostSubnets = lists.find((_, i) => kinds[i].kind === 'HostSubnet')?.items;
  const leaving = [...await leavingWarnings(store, objects, existing, storedHostSubnets), ...remadeNetworkWarnings(objects, existing).map((text) => ({ text }))];
  return { objects, warnings, leaving };
}

/**
 * The networks a Node of the batch leaves (a batch with a Node reads the stored ClusterNetworks,
 * MacvlanNets and Nodes anyway: storedKindsToCheck); the HostSubnets that then go are read only
 * when one is left, unless the batch read them already.
 */
async function leavingWarnings(store: Store, objects: AnyObject[], existing: AnyObject[], hostSubnets: AnyObject[] | undefined): Promise<Leaving[]> {
  const left = networksLeft(objects, existing);
  if (!left.length) return [];
  const hs = hostSubnets ?? (needsHostSubnets(left) ? (await store.list('HostSubnet', { withoutStatus: true })).items : []);
  // the NICs that lose their addresses with those HostSubnets are named too
  const nics = needsHostSubnets(left) ? (await store.list('ContainerNic', { withoutStatus: true })).items as ContainerNic[] : [];
  // one warning per network left, in its order
  return networkLeftWarnings(left, hs, nics).map((text, i) => ({ text, node: left[i].node }));
}

/**
 * The nodes' own reports that an edited MacvlanNet's in-use rule needs (validate-in-use-inside.ts):
 * only of the nodes holding an address the edit lands on, read after the stored objects.
 */
async function inUseReports(store: Store, objects: AnyObject[], existing: AnyObject[]): Promise<NodeReports> {
  const wanted = inUseReportsToRead(objects, existing);
  return new Map(await Promise.all(wanted.map(async (w) => [w.name, await store.nodeReports('MacvlanNet', w.name, w.nodes)] as const)));
}

/** A list's Nodes, also those whose key does not decode (named by the key's last segment, labels unknown). */
function storedNodes(list: ListResult): KnownNode[] {
  return [
    ...list.items.map((o) => ({ name: o.metadata.name, labels: o.metadata.labels })),
    ...(list.skipped ?? []).map((s) => ({ name: s.key.slice(s.key.lastIndexOf('/') + 1), unreadable: true })),
  ];
}

/**
 * How long a batch already refused for its own problems waits for etcd to check its other
 * documents against the store: an etcd that does not answer must not hold back problems found
 * without it for the whole call deadline (ETCD_CALL_TIMEOUT_MS).
 */
export const STORE_CHECK_BUDGET_MS = 1_500;

/**
 * loadBatch, then checkedBatch (apply, diff). A batch refused for its own problems is still
 * checked against the store (the objects that passed), so that one run reports every problem;
 * when the store cannot be read, or does not answer within STORE_CHECK_BUDGET_MS, the
 * manifests' own problems are reported alone. A batch with no problems of its own is checked
 * against the store with the full call deadline.
 */
export async function loadCheckedBatch(session: Session, io: CliIO, filenames: string[] | undefined): Promise<CheckedBatch & { loaded: LoadedObject[] }> {
  let loaded: LoadedObject[];
  try {
    loaded = await loadBatch(io, filenames);
  } catch (e) {
    if (!(e instanceof InvalidBatchError) || !e.valid.length) throw e;
    const more = await storeIssuesWithin(session, e.valid, STORE_CHECK_BUDGET_MS);
    throw e.with(more.issues, more.unchecked && `the other documents were not checked against what is stored (${more.unchecked}); fixing these problems may show more`);
  }
  return { loaded, ...await checkedBatch(session, loaded) };
}

/**
 * The problems checkedBatch finds; none when etcd cannot be read or does not answer within
 * `ms`, and then `unchecked` says which, so the list is not taken for all there is.
 */
async function storeIssuesWithin(session: Session, valid: LoadedObject[], ms: number): Promise<{ issues: ManifestIssue[]; unchecked?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ issues: ManifestIssue[]; unchecked?: string }>((done) => {
    timer = setTimeout(() => done({ issues: [], unchecked: `etcd did not answer within ${ms / 1000} s` }), ms);
  });
  const check = checkedBatch(session, valid).then(() => ({ issues: [] }), (x: unknown) => (x instanceof ManifestError
    ? { issues: x.issues }
    : { issues: [], unchecked: 'etcd could not be read' }));
  return Promise.race([check, late]).finally(() => clearTimeout(timer));
}
