// `xctl delete` of a ClusterNetwork, MacvlanNet or HostSubnet that ContainerNics still use (api/network-users.ts):
// refused as a conflict before anything is written, or, with --force, done with a warning.
import { hostSubnetUsers, isNetworkKind, networkUsers } from '../../api/network-users.js';
import type { ContainerNic, HostSubnet, Kind } from '../../api/index.js';
import type { Store } from '../../store/types.js';
import type { CliIO } from '../io.js';
import { CliError, EXIT } from '../exit.js';

const SHOWN = 5;

function listed(names: string[]): string {
  const shown = names.slice(0, SHOWN).join(', ');
  return names.length > SHOWN ? `${shown} and ${names.length - SHOWN} more` : shown;
}

/** "<kind>/<name> is in use by N ContainerNics (a, b, ...)" per network or HostSubnet still in use; none when free. */
async function inUse(store: Store, targets: { kind: Kind; name: string }[]): Promise<string[]> {
  const nets: string[] = [];
  const subnets: HostSubnet[] = [];
  for (const t of targets) {
    if (!isNetworkKind(t.kind) && t.kind !== 'HostSubnet') continue;
    // one that is gone or already being deleted is no new harm
    const o = await store.get(t.kind, t.name);
    if (!o || o.metadata.deletionTimestamp) continue;
    if (o.kind === 'HostSubnet') subnets.push(o); else nets.push(`${t.kind}/${t.name}`);
  }
  if (!nets.length && !subnets.length) return [];
  const going = new Set(targets.map((t) => `${t.kind}/${t.name}`));
  const nics = (await store.list('ContainerNic')).items as ContainerNic[];
  const users = [...networkUsers(nets, nics, going), ...subnets.map((hs) => [`HostSubnet/${hs.metadata.name}`, hostSubnetUsers(hs, nics, going)] as const)];
  return users.filter(([, u]) => u.length).map(([what, u]) => {
    const [kind, name] = what.split('/');
    return `${kind.toLowerCase()}/${name} is in use by ${u.length} ContainerNic${u.length === 1 ? '' : 's'} (${listed(u)})`;
  });
}

/**
 * Refuses (exit 3, nothing written) the delete of a network ContainerNics use, naming them:
 * deleting it would take their addresses at once. With `force`, warns and lets it go on.
 */
export async function checkNetworksInUse(store: Store, io: CliIO, targets: { kind: Kind; name: string }[], force: boolean): Promise<void> {
  const found = await inUse(store, targets);
  if (!found.length) return;
  if (force) {
    for (const f of found) io.err(`warning: ${f}: they lose their addresses and are taken out of their containers\n`);
    return;
  }
  throw new CliError(EXIT.CONFLICT, `conflict: ${found.join('; ')}: deleting ${found.length === 1 ? 'it' : 'them'} takes their addresses at once and their ` +
    'interfaces out of their containers; delete them first or in the same command, or pass --force\nnothing was deleted');
}
