// CPU seconds each process of a bench/scale run used over a phase, from /proc/<pid>/stat (user
// plus system time): on a 2-core machine the whole system's wall time is bounded by the sum,
// so the breakdown says which part to make cheaper.
import { readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ on Linux: /proc reports times in these ticks

/** user + system CPU seconds of one process so far; 0 once it has exited */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: count fields after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S; // fields 14 and 15: utime, stime
  } catch {
    return 0;
  }
}

export type CpuGroups = Record<string, Array<number | undefined>>;

/** A meter over named groups of processes; `self` is this process (process.cpuUsage). */
export function cpuMeter(groups: CpuGroups): () => string {
  const read = () => Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, pids.reduce((s: number, p) => s + cpuSecondsOf(p), 0)]));
  const before = read();
  const selfBefore = process.cpuUsage();
  const wall0 = performance.now();
  return () => {
    const after = read();
    const self = process.cpuUsage(selfBefore);
    const parts = Object.keys(groups).map((name) => [name, after[name] - before[name]] as const);
    parts.push(['this process (the apply, the polling)', (self.user + self.system) / 1e6]);
    const total = parts.reduce((s, [, v]) => s + v, 0);
    const wall = (performance.now() - wall0) / 1000;
    return `CPU over ${wall.toFixed(2)} s: ${parts.map(([n, v]) => `${n} ${v.toFixed(2)} s`).join(', ')}; total ${total.toFixed(2)} s (${(total / wall).toFixed(2)} cores)`;
  };
}
