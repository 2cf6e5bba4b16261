// A dockerd that takes every connection and answers nothing (a restoring one, or one hung): a
// unix socket in a temporary directory, made before the file's tests and removed after them.
// It reads what it is sent, so it sees a client close its end: `open` is what is still open.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface SilentDocker {
  /** its temporary directory (also usable as a state directory) */
  readonly dir: string;
  /** the Docker URL of its socket */
  readonly url: string;
  /** connections still open */
  readonly open: ReadonlySet<Socket>;
  /** connections taken so far */
  readonly accepted: number;
}

export function useSilentDocker(): SilentDocker {
  const open = new Set<Socket>();
  let dir = '';
  let accepted = 0;
  let server: Server;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xnet-silent-docker-'));
    server = createServer((s) => { accepted++; open.add(s); s.resume(); s.on('close', () => open.delete(s)); });
    await new Promise<void>((r) => server.listen(join(dir, 'docker.sock'), r));
  });
  afterAll(async () => {
    for (const s of open) s.destroy();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  return { get dir() { return dir; }, get url() { return `unix://${join(dir, 'docker.sock')}`; }, open, get accepted() { return accepted; } };
}
