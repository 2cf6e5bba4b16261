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
import { readFileSync } from 'node:fs';
import { monitor, type Monitor } from '../netlink/monitor.js';
import { pidTarget } from '../netlink/target.js';

interface Entry { monitor: Monitor; nics: Set<string> }

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

  /** The NIC is in place in the container with this PID: watch that namespace. */
  async watch(pid: number, nic: string): Promise<void> {
    await this.unwatch(nic, pid);
    const have = this.byPid.get(pid);
    if (have) { have.nics.add(nic); return; }
    const entry: Entry = { nics: new Set([nic]), monitor: undefined as unknown as Monitor };
    entry.monitor = monitor(pidTarget(pid), () => this.onChange([...entry.nics]), {
      restart: false,
      // the namespace went away and the monitor with it
      onRestart: () => { if (this.byPid.get(pid) === entry) this.byPid.delete(pid); },
    });
    this.byPid.set(pid, entry);
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
      const end = this.end(entry.monitor, dead ? nics : []);
      for (const n of nics) this.endings.set(n, end);
      void end.finally(() => { for (const n of nics) if (this.endings.get(n) === end) this.endings.delete(n); });
      ending.push(end);
    }
    await Promise.all(ending);
    if (others.length) this.onChange(others);
  }

  /** Ends a watcher; the NICs' links in a dead container's namespace go first, through it. */
  private async end(m: Monitor, release: string[]): Promise<void> {
    const watcher = m.pid;
    if (watcher && release.length && this.release) await this.release(`/proc/${watcher}/ns/net`, release).catch(() => undefined);
    await m.close();
  }

  /** The PIDs watched, with their NICs (tests, diagnostics). */
  watched(): Map<number, string[]> {
    return new Map([...this.byPid].map(([pid, e]) => [pid, [...e.nics]]));
  }

  async closeAll(): Promise<void> {
    const all = [...this.byPid.values()];
    this.byPid.clear();
    await Promise.all(all.map((e) => e.monitor.close()));
  }
}
