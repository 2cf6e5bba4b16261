// Where a cgroup named by Docker's --cgroup-parent can live, read from the mount table rather
// than assumed: every cgroup-v1 hierarchy (cpu, pids, ... as on these build machines) and the
// cgroup-v2 tree, whether it is mounted at /sys/fs/cgroup (Debian 12's default) or beside the
// v1 hierarchies (/sys/fs/cgroup/unified, hybrid mode). Independent of pkg/lab's own lookup, so
// a test using it checks the lab's clean-up rather than repeating it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Mount points of cgroup (v1) and cgroup2 file systems. */
export function cgroupMounts(): { version: 1 | 2; path: string }[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').flatMap((line) => {
    // ... mount-point ... - fstype source options
    const [left, right] = line.split(' - ');
    const fstype = right?.split(' ')[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') return [];
    const path = left.split(' ')[4].replace(/\\040/g, ' ');
    return [{ version: fstype === 'cgroup2' ? 2 as const : 1 as const, path }];
  });
}

/** Every existing directory of the cgroup `name` (a Docker --cgroup-parent), v1 and v2 alike. */
export function cgroupDirsOf(name: string): string[] {
  return cgroupMounts().map((m) => join(m.path, name)).filter((d) => existsSync(d));
}
