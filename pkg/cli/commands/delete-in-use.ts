// `xctl delete` of a ClusterNetwork or MacvlanNet that ContainerNics still use (api/network-users.ts):
// refused as a conflict before anything is written, or, with --force, done with a warning.
import { isNetworkKind, networkUsers } from '../../api/network-users.js';
import type { ContainerNic, Kind } from '../../api/index.js';
import type { Store } from '../../store/types.js';
import type { CliIO } from '../io.js';
import { CliError, EXIT } from '../exit.js';

const SHOWN = 5;

function listed(names: string[]): string {
  const shown = names.slice(0, SHOWN).join(', ');
  return names.length > SHOWN ? `${shown} and ${names.length - SHOWN} more` : shown;
}

/** "<kind>/<name> is in use by N ContainerNics (a, b, ...)" per network still in use; none when free. */
async function inUse(store: Store, targets: { kind: Kind; name: string }[]): Promise<string[]> {
  const nets: string[] = [];
  for (const t of targets) {
    if (!isNetworkKind(t.kind)) continue;
    // one that is gone or already being deleted is no new harm
    const o = await store.get(t.kind, t.name);
    if (o && !o.metadata.deletionTimestamp) nets.push(`${t.kind}/${t.name}`);
  }
  if (!nets.length) return [];
  const going = new Set(targets.map((t) => `${t.kind}/${t.name}`));
  const nics = (await store.list('ContainerNic')).items as ContainerNic[];
  return [...networkUsers(nets, nics, going)].filter(([, users]) => users.length).map(([net, users]) => {
    const [kind, name] = net.split('/');
    return `${kind.toLowerCase()}/${name} is in use by ${users.length} ContainerNic${users.length === 1 ? '' : 's'} (${listed(users)})`;
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
