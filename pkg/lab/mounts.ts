// Mounts a crashed Docker daemon leaves (its data root, overlay layers, netns bind mounts)
// are found under the lab's directory and undone, deepest first. The mount table is read from
// /proc/self/mountinfo, the file `findmnt` reads, in this process: no program per look.
import { readFileSync } from 'node:fs';
import { run } from './run.js';

/** The mount points of a mountinfo table (5th field, its octal escapes such as \040 undone). */
export function mountTargets(mountinfo: string): string[] {
  return mountinfo.split('\n')
    .map((l) => l.split(' ')[4])
    .filter((t): t is string => !!t)
    .map((t) => t.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

export async function mountsUnder(dir: string): Promise<string[]> {
  let table = '';
  try { table = readFileSync('/proc/self/mountinfo', 'utf8'); } catch { /* no /proc: nothing found */ }
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  return mountTargets(table).filter((t) => t === dir || t.startsWith(prefix));
}

/** Unmounts everything under dir; returns what is still mounted afterwards (normally nothing). */
export async function unmountUnder(dir: string): Promise<string[]> {
  // a path can be mounted over more than once; a few rounds take the stack apart
  for (let round = 0; round < 4; round++) {
    const mounts = await mountsUnder(dir);
    if (mounts.length === 0) return [];
    mounts.sort((a, b) => b.length - a.length);
    for (const m of mounts) {
      const r = await run(['umount', m], { reject: false });
      if (r.exitCode !== 0) await run(['umount', '-l', m], { reject: false });
    }
  }
  return mountsUnder(dir);
}
