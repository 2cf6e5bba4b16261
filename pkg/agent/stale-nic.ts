// A macvlan NIC's declared MAC refused by the kernel (`Address already in use`) is held by a
// macvlan of the same parent; after a container restart that is the NIC's own previous link, in
// the container's previous network namespace, which something may still keep alive (a process
// still in it, a bind mount of it). This module finds such a namespace among those reachable
// from the host (nsfs mounts, processes' namespaces) and deletes the link there that xnet made
// for this NIC (its ifalias, the declared MAC, a macvlan of this host's parent), nothing else.
// A namespace the kernel is already destroying is not reachable; the caller's fallback covers it.
import { readdir, readFile, stat } from 'node:fs/promises';
import { run } from '../netlink/exec.js';
import { parseLinks } from '../netlink/parse.js';
import { pinNetnsFile, type PinnedNetns } from '../netlink/pinned.js';
import { nicAlias } from './planner/names.js';

/** How many namespaces one search enters at most, and the deadline of each `nsenter` call. */
export const STALE_SCAN_MAX_NAMESPACES = 256;
export const STALE_SCAN_CALL_TIMEOUT_MS = 5_000;

export interface StaleNicLink {
  /** the namespace file it was found through (an nsfs mount or /proc/<pid>/ns/net) */
  netns: string;
  name: string;
  mac: string;
}

/** Mount points of nsfs mounts in /proc/self/mountinfo (octal escapes such as \040 decoded). */
export function nsfsMounts(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!post || post.split(' ')[0] !== 'nsfs') continue;
    const mountPoint = pre.split(' ')[4];
    if (mountPoint) out.push(mountPoint.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

async function nsKey(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined; // the process ended or the mount went meanwhile
  }
}

/** Files that name network namespaces reachable from here: nsfs mounts first, then every process's. */
async function namespaceFiles(): Promise<string[]> {
  const mounts = nsfsMounts(await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''));
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((p) => /^\d+$/.test(p));
  return [...mounts, ...pids.map((p) => `/proc/${p}/ns/net`)];
}

/** A namespace the search holds open: `file` found it (messages), `pin` is the only way into it. */
export interface PinnedCandidate { file: string; pin: PinnedNetns }

/**
 * Network namespaces reachable from here, one per namespace (by device and inode), nsfs mounts
 * first, then processes', without those of `exclude`; at most `max`. Each is held open (pinned)
 * and told by its handle: a PID names a process, not a namespace, and a file that names another
 * namespace between the look and the open (a PID reused, a mount replaced) is left out. The
 * caller closes them.
 */
export async function pinReachableNamespaces(exclude: string[], max = STALE_SCAN_MAX_NAMESPACES): Promise<PinnedCandidate[]> {
  const files = await namespaceFiles();
  const [skip, keys] = await Promise.all([Promise.all(exclude.map(nsKey)), Promise.all(files.map(nsKey))]);
  const seen = new Set(skip.filter((k): k is string => !!k));
  const out: PinnedCandidate[] = [];
  for (let i = 0; i < files.length && out.length < max; i++) {
    const k = keys[i];
    if (!k || seen.has(k)) continue;
    seen.add(k);
    const pin = await pinNetnsFile(files[i], Number(/^\/proc\/(\d+)\//.exec(files[i])?.[1] ?? 0)).catch(() => undefined);
    if (pin && `${pin.dev}:${pin.ino}` === k) out.push({ file: files[i], pin });
    else await pin?.close();
  }
  return out;
}

/** A link the search found: where (the pinned namespace) and what it was, checked again at the delete. */
interface Found extends StaleNicLink { pin: PinnedNetns; ifindex: number; parentIndex: number; alias: string }

/**
 * The macvlan links in namespace `c` that carry this NIC's mark and MAC, on the parent
 * whose ifindex is `parentIndex` in the host's namespace (`hostName` when it is a named one).
 * An ifindex is per namespace: the parents of other simulated hosts (other labs on the machine,
 * with the same NIC names and addresses) often have the same one, so the parent's namespace is
 * checked too (parentInHost). Read through the pinned handle only.
 */
async function markedLinks(c: PinnedCandidate, nic: string, mac: string, parentIndex: number, hostName: string | undefined): Promise<Found[]> {
  try {
    const out = await run('nsenter', [`--net=${c.pin.path}`, 'ip', '-json', '-details', 'link', 'show'], undefined, { timeoutMs: STALE_SCAN_CALL_TIMEOUT_MS });
    const links = out.trim() ? parseLinks(JSON.parse(out)) : [];
    const found = links.filter((l) => l.kind === 'macvlan' && l.alias === nicAlias(nic) && l.mac === mac.toLowerCase()
      && l.linkIndex === parentIndex && l.linkNetnsId !== undefined);
    if (!found.length) return [];
    const named = await namedPeers(c.pin.path);
    return found.filter((l) => parentInHost(named.get(l.linkNetnsId!), hostName))
      .map((l) => ({ netns: c.file, name: l.name, mac: l.mac, pin: c.pin, ifindex: l.ifindex, parentIndex, alias: nicAlias(nic) }));
  } catch {
    return []; // gone meanwhile, or not enterable: not a holder we can free
  }
}

/** The names of the named namespaces (/var/run/netns) that the namespace at `netns` has an id for, by id. */
async function namedPeers(netns: string): Promise<Map<number, string>> {
  const out = await run('nsenter', [`--net=${netns}`, 'ip', '-json', 'netns', 'list-id'], undefined, { timeoutMs: STALE_SCAN_CALL_TIMEOUT_MS });
  const ids = out.trim() ? (JSON.parse(out) as Array<{ nsid?: number; name?: string }>) : [];
  return new Map(ids.filter((i) => typeof i.nsid === 'number' && typeof i.name === 'string').map((i) => [i.nsid!, i.name!]));
}

/**
 * Whether a link's parent, in the namespace named `parentNs` (undefined: an unnamed one), is in
 * the host's: the one named `hostName`, or for an agent on its own namespace (no name) an unnamed
 * one. In doubt it is not: the link stays, and the NIC waits for its MAC (mac-wait.ts).
 */
function parentInHost(parentNs: string | undefined, hostName: string | undefined): boolean {
  return parentNs === hostName;
}

/**
 * Deletes link $1 only while it is still the one found: ifindex $2, on the parent with ifindex
 * $5 of another namespace (`name@ifN`), MAC $3, ifalias $4, a macvlan; checked in the same
 * nsenter as the delete (`ip -o -d link show` prints all of it on one line). Exit 4: not it.
 */
const DELETE_IF_SAME = 'l="$(ip -o -d link show dev "$1")" || exit 3; '
  + 'case "$l " in "$2: $1@if$5: "*" link/ether $3 "*" macvlan mode "*" alias $4 "*) exec ip link del dev "$1";; esac; exit 4';

function deleteFound(l: Found): Promise<boolean> {
  const argv = [`--net=${l.pin.path}`, 'sh', '-c', DELETE_IF_SAME, 'sh', l.name, String(l.ifindex), l.mac, l.alias, String(l.parentIndex)];
  return run('nsenter', argv, undefined, { timeoutMs: STALE_SCAN_CALL_TIMEOUT_MS }).then(() => true, () => false);
}

/**
 * Deletes the links xnet made for NIC `nic` with MAC `mac` on the parent with ifindex
 * `parentIndex` in the host's namespace (named `hostName`, or the agent's own when none) in every
 * reachable namespace but `exclude` (the container's current one and the host's). Each namespace
 * is read and changed through its pinned handle, and each link checked again as it is deleted.
 * Returns what it deleted.
 */
export async function removeStaleNicLinks(nic: string, mac: string, parentIndex: number, exclude: string[], hostName?: string): Promise<StaleNicLink[]> {
  const namespaces = await pinReachableNamespaces(exclude);
  try {
    const found: Found[] = [];
    for (let i = 0; i < namespaces.length; i += 8) {
      const part = await Promise.all(namespaces.slice(i, i + 8).map((c) => markedLinks(c, nic, mac, parentIndex, hostName)));
      found.push(...part.flat());
    }
    const deleted: StaleNicLink[] = [];
    for (const l of found) if (await deleteFound(l)) deleted.push({ netns: l.netns, name: l.name, mac: l.mac });
    return deleted;
  } finally {
    await Promise.all(namespaces.map((c) => c.pin.close()));
  }
}

/**
 * Deletes the links marked as NICs `nics`' in the namespace at `netns`: a dead container's,
 * reached through the agent's own watcher that still holds it (container-watch.ts). A macvlan
 * frees its MAC on the parent; a veth's container end takes its host end with it, at once
 * rather than when the kernel destroys the namespace (a reconcile that read the host end then
 * failed deleting it: "Cannot find device"). Returns what it deleted; a namespace that cannot
 * be entered yields nothing.
 */
export async function removeMarkedNicLinks(netns: string, nics: string[]): Promise<StaleNicLink[]> {
  const marks = new Set(nics.map(nicAlias));
  let links: ReturnType<typeof parseLinks> = [];
  try {
    const out = await run('nsenter', [`--net=${netns}`, 'ip', '-json', '-details', 'link', 'show'], undefined, { timeoutMs: STALE_SCAN_CALL_TIMEOUT_MS });
    links = out.trim() ? parseLinks(JSON.parse(out)) : [];
  } catch {
    return [];
  }
  const deleted: StaleNicLink[] = [];
  for (const l of links.filter((x) => (x.kind === 'macvlan' || x.kind === 'veth') && x.alias !== undefined && marks.has(x.alias))) {
    const ok = await run('nsenter', [`--net=${netns}`, 'ip', 'link', 'del', l.name], undefined, { timeoutMs: STALE_SCAN_CALL_TIMEOUT_MS }).then(() => true, () => false);
    if (ok) deleted.push({ netns, name: l.name, mac: l.mac });
  }
  return deleted;
}
