// Commands run "on" a lab host see the machine's own tools first; busybox fills the gaps these
// machines have (no ping, traceroute, nc...), through links in <labDir>/bin appended to PATH.
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { run } from './run.js';

const BUSYBOX = '/bin/busybox';

export function toolsDir(labDir: string): string {
  return join(labDir, 'bin');
}

function onPath(name: string, path: string): boolean {
  return path.split(delimiter).some((d) => d && existsSync(join(d, name)));
}

export async function makeToolsDir(labDir: string): Promise<void> {
  if (!existsSync(BUSYBOX)) return;
  const dir = toolsDir(labDir);
  mkdirSync(dir, { recursive: true });
  const list = await run([BUSYBOX, '--list'], { reject: false });
  const path = process.env.PATH ?? '';
  for (const applet of list.stdout.split('\n').map((s) => s.trim())) {
    if (!applet || applet.includes('/') || onPath(applet, path) || existsSync(join(dir, applet))) continue;
    symlinkSync(BUSYBOX, join(dir, applet));
  }
}

/** PATH for commands on a lab host: the machine's PATH, then the lab's busybox links. */
export function labPath(labDir: string): string {
  return [process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', toolsDir(labDir)].join(delimiter);
}
