// Whether an `ip monitor` (or `nft monitor`) has subscribed to the kernel's events yet. It prints
// nothing when it starts, and a change made between its start and its subscription is never told;
// a reader that keeps what it read until the next event (the agent's kept reads: kept-read.ts)
// must know from when on it may. /proc/<pid>/net/netlink lists the netlink sockets of the
// process's namespace with their protocol and event groups; the process's own socket is found by
// its inode among /proc/<pid>/fd. Measured here: `nft monitor rules` in a lab namespace holds a
// NETLINK_NETFILTER (12) socket in group mask 00000040 (NFNLGRP_NFTABLES) once it listens.
import { readFile, readdir, readlink } from 'node:fs/promises';

/** Inodes of the sockets process `pid` holds (empty when it is gone). */
async function socketInodes(pid: number): Promise<Set<string>> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  return new Set(links.map((l) => /^socket:\[(\d+)\]$/.exec(l)?.[1]).filter((i): i is string => !!i));
}

/** The netlink protocols of the host's watchers: `ip monitor`'s and `nft monitor`'s. */
export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;

/**
 * Does a line of /proc/<pid>/net/netlink ("sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode")
 * show one of `inodes` as a socket of `protocol` (Eth) joined to at least one event group?
 */
export function subscribedIn(netlinkTable: string, inodes: Set<string>, protocol = NETLINK_ROUTE): boolean {
  return netlinkTable.split('\n').slice(1).some((line) => {
    const f = line.trim().split(/\s+/);
    return f.length >= 10 && f[1] === String(protocol) && /^[0-9a-f]+$/i.test(f[3]) && parseInt(f[3], 16) !== 0 && inodes.has(f[9]);
  });
}

/** Looks every 20 ms until process `pid` has subscribed (true), is gone or `withinMs` passed (false). */
export function rtnlSubscribed(pid: number, withinMs: number): Promise<boolean> {
  return netlinkSubscribed(pid, withinMs, NETLINK_ROUTE);
}

/** rtnlSubscribed for a socket of `protocol`. */
export async function netlinkSubscribed(pid: number, withinMs: number, protocol: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    const inodes = await socketInodes(pid);
    const table = await readFile(`/proc/${pid}/net/netlink`, 'utf8').catch(() => undefined);
    if (table === undefined) return false;
    if (inodes.size && subscribedIn(table, inodes, protocol)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
