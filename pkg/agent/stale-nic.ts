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

/**
 * Network namespaces reachable from here, one path per namespace (by device and inode), nsfs
 * mounts first, then processes', without those of `exclude`; at most `max`.
 */
export async function reachableNamespaces(exclude: string[], max = STALE_SCAN_MAX_NAMESPACES): Promise<string[]> {
  const mounts = nsfsMounts(await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''));
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((p) => /^\d+$/.test(p));
  const paths = [...mounts, ...pids.map((p) => `/proc/${p}/ns/net`)];
  const [skip, keys] = await Promise.all([Promise.all(exclude.map(nsKey)), Promise.all(paths.map(nsKey))]);
  const seen = new Set(skip.filter((k): k is string => !!k));
  const out: string[] = [];
  paths.forEach((p, i) => {
    const k = keys[i];
    if (!k || seen.has(k) || out.length >= max) return;
    seen.add(k);
    out.push(p);
  });
  return out;
}

/**
 * The macvlan links in the namespace at `netns` that carry this NIC's mark and MAC, on the parent
 * whose ifindex is `parentIndex` in the host's namespace (`hostName` when it is a named one).
 * An ifindex is per namespace: the parents of other simulated hosts (other labs on the machine,
 * with the same NIC names and addresses) often have the same one, so the parent's namespace is
 * checked too (parentInHost).
 */
async function markedLinks(netns: string, nic: string, mac: string, parentIndex: number, hostName: string | undefined): Promise<StaleNicLink[]> {
  try {
    const out = await run('nsenter', [`--net=${netns}`, 'ip', '-json', '-details', 'link', 'show'], undefined, { timeoutMs: STALE_SCAN_CALL_TIMEOUT_MS });
    const links = out.trim() ? parseLinks(JSON.parse(out)) : [];
    const found = links.filter((l) => l.kind === 'macvlan' && l.alias === nicAlias(nic) && l.mac === mac.toLowerCase()
      && l.linkIndex === parentIndex && l.linkNetnsId !== undefined);
    if (!found.length) return [];
    const named = await namedPeers(netns);
    return found.filter((l) => parentInHost(named.get(l.linkNetnsId!), hostName)).map((l) => ({ netns, name: l.name, mac: l.mac }));
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
 * Deletes the links xnet made for NIC `nic` with MAC `mac` on the parent with ifindex
 * `parentIndex` in the host's namespace (named `hostName`, or the agent's own when none) in every
 * reachable namespace but `exclude` (the container's current one and the host's). Returns what it deleted.
 */
export async function removeStaleNicLinks(nic: string, mac: string, parentIndex: number, exclude: string[], hostName?: string): Promise<StaleNicLink[]> {
  const namespaces = await reachableNamespaces(exclude);
  const found: StaleNicLink[] = [];
  for (let i = 0; i < namespaces.length; i += 8) {
    const part = await Promise.all(namespaces.slice(i, i + 8).map((ns) => markedLinks(ns, nic, mac, parentIndex, hostName)));
    found.push(...part.flat());
  }
  const deleted: StaleNicLink[] = [];
  for (const l of found) {
    const ok = await run('nsenter', [`--net=${l.netns}`, 'ip', 'link', 'del', l.name], undefined, { timeoutMs: STALE_SCAN_CALL_TIMEOUT_MS }).then(() => true, () => false);
    if (ok) deleted.push(l);
  }
  return deleted;
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
