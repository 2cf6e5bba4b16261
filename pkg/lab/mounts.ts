// Mounts a crashed Docker daemon leaves (its data root, overlay layers, netns bind mounts)
// are found under the lab's directory and undone, deepest first.
import { run } from './run.js';

export async function mountsUnder(dir: string): Promise<string[]> {
  const r = await run(['findmnt', '-rn', '-o', 'TARGET'], { reject: false });
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  return r.stdout
    .split('\n')
    .map((l) => l.trim().replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))))
    .filter((t) => t === dir || t.startsWith(prefix));
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
