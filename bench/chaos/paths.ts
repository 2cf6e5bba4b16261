// Where the chaos suite finds its own files, from dist/bench/chaos or from the sources alike.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { programPath } from '../../pkg/lab/index.js';

/** The package root: the first directory above this file holding package.json and pkg/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'pkg'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('cannot find the xnet package root above ' + fileURLToPath(import.meta.url));
}

/** dist/cmd/xctl.js next to the agent and controller the lab starts */
export function xctlPath(): string {
  return join(dirname(programPath('xnet-agent')), 'xctl.js');
}

export function proberSource(): string {
  return join(repoRoot(), 'bench', 'chaos', 'prober.c');
}
