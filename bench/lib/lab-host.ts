// One lab host for the benchmarks that need a real kernel and Docker: an underlay namespace and
// host-1 on it, its own dockerd with the lab's busybox image. destroyLab(dir) removes it all.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createUnderlay, createHost, startDockerd, ensureBusyboxImage, type LabHost } from '../../pkg/lab/index.js';

/** A fresh lab id and directory; `dir` is what destroyLab takes, also when the host never came up. */
export function benchLabDir(idPrefix: string): { id: string; dir: string } {
  const id = `${idPrefix}${randomBytes(3).toString('hex')}`;
  return { id, dir: mkdtempSync(join(tmpdir(), `xnet-${id}-`)) };
}

export async function benchLabHost(id: string, dir: string): Promise<LabHost> {
  const lab = await createUnderlay(id, { dir });
  const h = await createHost(lab, 1);
  await startDockerd(h);
  await ensureBusyboxImage(h);
  return h;
}
