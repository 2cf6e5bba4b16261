// One `ip monitor` per container namespace that holds xnet NICs, so that drift inside a
// container (an address deleted, a NIC set down) heals by event.
//
// The watcher is itself a process inside that namespace, and a process keeps its namespace
// alive: when the container dies (a restart, a crash of its dockerd) the old namespace, and the
// NICs in it, live on until the watcher ends. A macvlan left there keeps the NIC's MAC on the
// parent, so the kernel refuses that MAC to the NIC in the container's new namespace (chaos
// fault 6, docs/faults.md). Hence: a watcher of a dead container's namespace ends at once,
// whichever NIC notices, and unwatch resolves only once it has exited. And before it ends, the
// namespace it holds is still reachable through it: the agent deletes its own marked NIC links
// there first (`release`), which frees macvlans' MACs (and veths' host ends) at once. Let go with them, the namespace
// would be destroyed by the kernel in the background, which took up to 48 s under load, the
// MAC held all along (stale-nic.ts cannot enter a namespace being destroyed).
//
// A watcher enters the namespace the NIC's reconcile pinned, never the PID (which may be a
// host process's by then): through a handle of its own on that namespace, opened from the
// reconcile's before that one closes, and closed when the watcher ends. `release` goes
// through that handle too.
import { readFileSync } from 'node:fs';
import { monitor, type Monitor } from '../netlink/monitor.js';
import { repin, type PinnedNetns } from '../netlink/pinned.js';
import { monotonicMs } from '../runtime/clock.js';

interface Entry { monitor: Monitor; nics: Set<string>; ns: PinnedNetns }

/**
 * A watcher that ends by itself after running this long has its NICs look again (their
 * reconcile watches anew); one that ends sooner is left to the periodic resync, so a namespace
 * no watcher can run in costs no loop of reconciles.
 */
export const WATCHER_MIN_LIFE_MS = 1_000;

/** Is the process alive (a zombie has left its namespaces already)? */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export class ContainerWatches {
  private readonly byPid = new Map<number, Entry>();
  /** per NIC, the ending of the watcher it was in: another NIC's reconcile may have begun it */
  private readonly endings = new Map<string, Promise<void>>();

  constructor(
    /** a change in the namespace: reconcile these NICs */
    private readonly onChange: (nics: string[]) => void,
    private readonly alive: (pid: number) => boolean = processAlive,
    /** a dead container's namespace, reachable at `netns` until its watcher ends: free what xnet made there for these NICs */
    private readonly release?: (netns: string, nics: string[]) => Promise<void>,
  ) {}

  /** The NIC is in place in the container whose namespace `pinned` holds (open until this resolves): watch that namespace. */
  async watch(pinned: PinnedNetns, nic: string): Promise<void> {
    const pid = pinned.pid;
    await this.unwatch(nic, pid);
    if (this.join(pid, nic)) return;
    const ns = await repin(pinned);
    // another NIC of the container may have begun the watcher meanwhile
    if (this.join(pid, nic)) { await ns.close(); return; }
    const entry: Entry = { nics: new Set([nic]), ns, monitor: undefined as unknown as Monitor };
    const started = monotonicMs();
    entry.monitor = monitor(ns.target, () => this.onChange([...entry.nics]), {
      restart: false,
      // the watcher ended by itself (killed): the namespace is let go, and its NICs, unwatched
      // now, look again (a live container's reconcile starts a watcher anew)
      onRestart: () => {
        const current = this.byPid.get(pid) === entry;
        if (current) this.byPid.delete(pid);
        void ns.close();
        if (current && entry.nics.size && monotonicMs() - started >= WATCHER_MIN_LIFE_MS) this.onChange([...entry.nics]);
      },
    });
    this.byPid.set(pid, entry);
  }

  private join(pid: number, nic: string): boolean {
    const have = this.byPid.get(pid);
    have?.nics.add(nic);
    return !!have;
  }

  /**
   * Stops watching for the NIC in every namespace but keepPid's. A namespace whose container
   * process is dead is let go whole (its other NICs are told to look again: they are in the
   * same dead container); resolves once those watchers have exited.
   */
  async unwatch(nic: string, keepPid?: number): Promise<void> {
    // A watcher another NIC's reconcile is ending may still be deleting this NIC's links in
    // the dead namespace: planning before that is done would read links about to vanish.
    const ending: Array<Promise<void>> = [this.endings.get(nic) ?? Promise.resolve()];
    const others: string[] = [];
    for (const [pid, entry] of this.byPid) {
      if (pid === keepPid || !entry.nics.has(nic)) continue;
      const dead = !this.alive(pid);
      if (entry.nics.size > 1 && !dead) { entry.nics.delete(nic); continue; }
      const nics = [...entry.nics];
      entry.nics.clear();
      if (dead) others.push(...nics.filter((n) => n !== nic));
      this.byPid.delete(pid);
      const end = this.end(entry, dead ? nics : []);
      for (const n of nics) this.endings.set(n, end);
      void end.finally(() => { for (const n of nics) if (this.endings.get(n) === end) this.endings.delete(n); });
      ending.push(end);
    }
    await Promise.all(ending);
    if (others.length) this.onChange(others);
  }

  /** Ends a watcher; the NICs' links in a dead container's namespace go first, through its handle. */
  private async end(e: Entry, release: string[]): Promise<void> {
    try {
      if (release.length && this.release) await this.release(e.ns.path, release).catch(() => undefined);
      await e.monitor.close();
    } finally {
      await e.ns.close();
    }
  }

  /** The PIDs watched, with their NICs (tests, diagnostics). */
  watched(): Map<number, string[]> {
    return new Map([...this.byPid].map(([pid, e]) => [pid, [...e.nics]]));
  }

  async closeAll(): Promise<void> {
    const all = [...this.byPid.values()];
    this.byPid.clear();
    await Promise.all(all.map((e) => e.monitor.close().finally(() => e.ns.close())));
  }
}
