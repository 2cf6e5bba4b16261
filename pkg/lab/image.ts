// The lab's only image, xnet/busybox:latest, made locally (there is no registry): a root
// filesystem holding the static busybox of busybox-static with every applet linked in /bin.
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { dockerArgv, labDirOf } from './dockerd.js';
import { LabError } from './errors.js';
import { run } from './run.js';
import type { LabHost } from './types.js';

export const BUSYBOX_IMAGE = 'xnet/busybox:latest';
const BUSYBOX_BINARY = '/bin/busybox';
const TAR_NAME = 'busybox-rootfs.tar';

const building = new Map<string, Promise<string>>();

/** Builds (once per directory, cached) the root filesystem tar; returns its path. */
export function busyboxRootfsTar(cacheDir: string): Promise<string> {
  const tar = join(cacheDir, TAR_NAME);
  if (existsSync(tar)) return Promise.resolve(tar);
  let p = building.get(tar);
  if (!p) {
    p = buildTar(cacheDir, tar).finally(() => building.delete(tar));
    building.set(tar, p);
  }
  return p;
}

async function buildTar(cacheDir: string, tar: string): Promise<string> {
  if (!existsSync(BUSYBOX_BINARY)) {
    throw new LabError('BusyboxMissing', `${BUSYBOX_BINARY} not found`, 'install it: apt-get install busybox-static');
  }
  const file = await run(['file', '-L', BUSYBOX_BINARY], { reject: false });
  if (file.exitCode === 0 && !/statically linked/.test(file.stdout)) {
    throw new LabError('BusyboxNotStatic', `${BUSYBOX_BINARY} is dynamically linked and cannot run alone in a container`, 'install busybox-static');
  }
  const root = join(cacheDir, 'busybox-rootfs');
  rmSync(root, { recursive: true, force: true });
  for (const d of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(BUSYBOX_BINARY, join(root, 'bin', 'busybox'));
  const list = await run([BUSYBOX_BINARY, '--list']);
  for (const applet of list.stdout.split('\n').map((s) => s.trim())) {
    if (!applet || applet === 'busybox' || applet.includes('/')) continue;
    symlinkSync('busybox', join(root, 'bin', applet));
  }
  await run(['tar', '-C', root, '-cf', tar + '.tmp', '.']);
  renameSync(tar + '.tmp', tar);
  rmSync(root, { recursive: true, force: true });
  return tar;
}

/** Imports xnet/busybox:latest into the host's daemon unless it is there already. */
export async function ensureBusyboxImage(host: LabHost, opts: { cacheDir?: string } = {}): Promise<void> {
  const have = await run(dockerArgv(host, ['image', 'inspect', '--format', '{{.Id}}', BUSYBOX_IMAGE]), { reject: false });
  if (have.exitCode === 0) return;
  const tar = await busyboxRootfsTar(opts.cacheDir ?? labDirOf(host));
  await run(dockerArgv(host, ['import', '--change', 'CMD ["/bin/sh"]', tar, BUSYBOX_IMAGE]));
}
