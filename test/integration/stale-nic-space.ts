// What the stale-NIC search tests (stale-nic-search, stale-nic-pinned) name their namespaces and
// NIC with, and how they look into them: every name carries a random tag, so the search (which
// reads every namespace on the machine) can match nothing of anyone else's.
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';

/**
 * `letters`: the file's own two letters, so two files running at once never share a name;
 * `roles`: its namespaces (`host` is named `xnet-<letters><tag>-h`, `old2` `...-o2`).
 */
export function staleNicSpace<R extends string>(letters: string, roles: readonly R[]) {
  const tag = randomBytes(3).toString('hex');
  const ns = Object.fromEntries(roles.map((r) => [r, `xnet-${letters}${tag}-${r[0]}${r.replace(/^\D+/, '')}`])) as Record<R, string>;
  const NIC = `${letters}${tag}`;
  const ip = (n: string, args: string[]) => execa('ip', ['-n', n, ...args], { timeout: 10_000 });
  return {
    ns, NIC, MARK: `xnet:nic:${NIC}`, ip,
    path: (n: string) => `/var/run/netns/${n}`,
    /** the namespace's link names, sorted */
    names: async (n: string) => (JSON.parse((await ip(n, ['-j', 'link', 'show'])).stdout) as Array<{ ifname: string }>).map((l) => l.ifname).sort(),
    ifindex: async (n: string, dev: string) => (JSON.parse((await ip(n, ['-j', 'link', 'show', dev])).stdout) as Array<{ ifindex: number }>)[0].ifindex,
  };
}
