// The lab's only image, xnet/busybox:latest, made locally (there is no registry): a root
// filesystem holding the static busybox of busybox-static with every applet linked in /bin.
import { copyFileSync, createReadStream, existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { dockerApi } from './docker-api.js';
import { labDirOf } from './dockerd.js';
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

/**
 * Imports xnet/busybox:latest into the host's daemon unless it is there already, through the
 * daemon's API (as `docker import --change 'CMD ["/bin/sh"]'` does). `cacheDir` is where the
 * root filesystem's tar is built once and kept (default: the lab's directory).
 */
export async function ensureBusyboxImage(host: LabHost, opts: { cacheDir?: string } = {}): Promise<void> {
  const have = await dockerApi(host.dockerSocket, 'GET', `/images/${BUSYBOX_IMAGE}/json`);
  if (have.status === 200) return;
  const tar = await busyboxRootfsTar(opts.cacheDir ?? labDirOf(host));
  const [repo, tag] = BUSYBOX_IMAGE.split(':');
  const query = new URLSearchParams({ fromSrc: '-', repo, tag, changes: 'CMD ["/bin/sh"]' });
  const r = await dockerApi(host.dockerSocket, 'POST', `/images/create?${query}`, { body: createReadStream(tar), contentType: 'application/x-tar', timeoutMs: 60_000 });
  // the reply is a stream of JSON progress lines; a failure arrives as a line with "error"
  const failed = r.body.split('\n').map((l) => { try { return JSON.parse(l) as { error?: string }; } catch { return {}; } }).find((m) => m.error);
  if (r.status !== 200 || failed) {
    throw new LabError('CommandFailed', `importing ${BUSYBOX_IMAGE} into the dockerd of ${host.name}: ${failed?.error ?? `${r.status} ${r.body.trim()}`}`);
  }
}
