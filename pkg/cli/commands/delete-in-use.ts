// `xctl delete` of a ClusterNetwork, MacvlanNet, HostSubnet or Node that ContainerNics still use (api/network-users.ts):
// refused as a conflict before anything is written, or, with --force, done with a warning. The
// delete is held to the check (store DeleteGuard): a NIC applied between the two makes the
// check run again instead of going unseen.
import { hostSubnetUsers, IN_USE_BY_KINDS, isInUseChecked, networkUsers, nodeUsers, reportedHostSubnetUsers } from '../../api/network-users.js';
import type { ContainerNic, HostSubnet, Kind } from '../../api/index.js';
import type { DeleteGuard, Store } from '../../store/types.js';
import type { CliIO } from '../io.js';
import { CliError, EXIT } from '../exit.js';
import { firstFew } from '../../first-few.js';

const SHOWN = 5;

const listed = (names: string[]): string => firstFew(names, SHOWN);

/** The targets the check reads: networks, HostSubnets and Nodes, found or not (one created after the check must wait for it). */
const checked = <T extends { kind: Kind; name: string }>(targets: T[]) => targets.filter((t) => isInUseChecked(t.kind));

type Users = readonly [what: string, nics: string[]];

/** "<kind>/<name> is in use by N ContainerNics (a, b, ...)" */
function inUseBy([what, nics]: Users): string {
  const [kind, name] = what.split('/');
  return `${kind.toLowerCase()}/${name} is in use by ${nics.length} ContainerNic${nics.length === 1 ? '' : 's'} (${listed(nics)})`;
}

/** A target with the uid its selection listed (targets.ts) deletes only that incarnation (store deleteAll). */
type Selected = { kind: Kind; name: string; uid?: string };

const deletes = (t: Selected, o: { metadata: { uid?: string } }) => t.uid === undefined || t.uid === o.metadata.uid;

/**
 * "ContainerNic/<name>" of each NIC the delete takes too: not a selected one deleted and made
 * again under its name since the selection (another uid), which the delete leaves alone, on
 * the network it uses.
 */
function goingNics(targets: Selected[], nics: ContainerNic[]): Set<string> {
  const read = new Map(nics.map((n) => [n.metadata.name, n]));
  const going = targets.filter((t) => t.kind !== 'ContainerNic' || !read.has(t.name) || deletes(t, read.get(t.name)!));
  return new Set(going.map((t) => `${t.kind}/${t.name}`));
}

/**
 * "<kind>/<name> is in use by N ContainerNics (a, b, ...)" per network, HostSubnet or Node still
 * in use, none when free; and the revision the NICs were read at. The targets are read after it,
 * so the delete's guard (DeleteGuard) fails when one of them changed since.
 */
async function inUse(store: Store, targets: Selected[]): Promise<{ found: string[]; revision: number }> {
  const read = await store.list('ContainerNic');
  const nics = read.items as ContainerNic[];
  const nets: string[] = [];
  const subnets: HostSubnet[] = [];
  const nodes: string[] = [];
  const unreadableSubnets: string[] = [];
  const refs = checked(targets);
  // all in one read (a few for a batch larger than one transaction takes), not one per target
  const objs = await store.readMany(refs);
  refs.forEach((t, i) => {
    const { object: o, skipped } = objs[i];
    // one whose key does not decode is there all the same (the delete removes it): its users are told by its name
    const undecodable = !o && skipped.length > 0 && t.uid === undefined;
    // one that is gone, already being deleted, or made again since it was selected (left alone) is no new harm
    if (!undecodable && (!o || o.metadata.deletionTimestamp || !deletes(t, o))) return;
    if (t.kind === 'Node') nodes.push(t.name);
    else if (t.kind !== 'HostSubnet') nets.push(`${t.kind}/${t.name}`);
    else if (o) subnets.push(o as HostSubnet);
    else unreadableSubnets.push(t.name);
  });
  const going = goingNics(targets, nics);
  const users: Users[] = [
    ...networkUsers(nets, nics, going),
    ...subnets.map((hs) => [`HostSubnet/${hs.metadata.name}`, hostSubnetUsers(hs, nics, going)] as const),
    ...unreadableSubnets.map((name) => [`HostSubnet/${name}`, reportedHostSubnetUsers(name, nics, going)] as const),
    ...nodes.map((n) => [`Node/${n}`, nodeUsers(n, nics, going)] as const),
  ];
  return { found: users.filter(([, u]) => u.length).map(inUseBy), revision: read.revision };
}

/** The refusal, exit 3. Its message says that nothing was deleted only where that is so (nothingDeleted). */
export class InUseError extends CliError {
  constructor(found: string[]) {
    super(EXIT.CONFLICT, `conflict: ${found.join('; ')}: deleting ${found.length === 1 ? 'it' : 'them'} takes their addresses at once and their ` +
      'interfaces out of their containers; delete them first or in the same command, or pass --force');
  }
}

/**
 * The refusal as xctl prints it when it reached the user before any transaction of the delete
 * committed: nothing was deleted. (After some did, the partial write's message says what was.)
 */
export function nothingDeleted(e: unknown): unknown {
  return e instanceof InUseError ? new CliError(e.code, `${e.message}\nnothing was deleted`) : e;
}

/**
 * Refuses (InUseError, exit 3) the delete of a network, HostSubnet or Node that ContainerNics use,
 * naming them: deleting it would take their addresses at once. With `force`, warns and lets it
 * go on. Otherwise returns the guard that holds the delete to this check: a NIC applied after
 * it makes the delete's transaction fail and the check run again (refusing then if need be).
 */
export async function checkNetworksInUse(store: Store, io: CliIO, targets: Selected[], force: boolean): Promise<DeleteGuard | undefined> {
  const refs = checked(targets);
  if (!refs.length) return undefined;
  const { found, revision } = await inUse(store, targets);
  if (force) {
    for (const f of found) io.err(`warning: ${f}: they lose their addresses and are taken out of their containers\n`);
    return undefined;
  }
  if (found.length) throw new InUseError(found);
  const recheck = async () => {
    const again = await inUse(store, targets);
    if (again.found.length) throw new InUseError(again.found);
    return again.revision;
  };
  return { revision, kinds: [...IN_USE_BY_KINDS], refs, recheck };
}
