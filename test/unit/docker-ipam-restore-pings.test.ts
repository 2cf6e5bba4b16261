// Through a dockerd's restore the IPAM plugin keeps one ping of Docker's API out, sent again as
// soon as one fails at its 2 s bound (pkg/dockeripam/restore.ts). A restoring dockerd's socket
// accepts and answers nothing: the bound used to reject the ping without ending its request, so
// each ping sent again left one more connection open until the Docker client's own 30 s timeout
// (about 15 seen on a real restore). A silent unix socket stands in for that dockerd (as in
// docker-events-deadline.test.ts); the agent's IPAM wiring (pkg/agent/ipam-host.ts) and its
// DockerClient are the real ones. Counted at the server: connections still open.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AgentIpam } from '../../pkg/agent/ipam-host.js';
import type { AgentContext } from '../../pkg/agent/context.js';
import type { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { DockerClient } from '../../pkg/docker/client.js';
import { createLogger } from '../../pkg/log.js';
import { SELF } from '../../pkg/netlink/target.js';

const log = createLogger('agent');
log.level = 'error';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let server: Server;
const open = new Set<Socket>();
let accepted = 0;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xnet-restoring-docker-'));
  // reads what it is sent (so it sees a client close its end) and never answers
  server = createServer((s) => { accepted++; open.add(s); s.resume(); s.on('close', () => open.delete(s)); });
  await new Promise<void>((r) => server.listen(join(dir, 'docker.sock'), r));
});
afterAll(async () => {
  for (const s of open) s.destroy();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

it('a restoring dockerd that holds every ping: each ping given up on is closed, one connection open at a time', async () => {
  const ctx = {
    node: 'host-1', log, dp: { target: SELF, docker: new DockerClient(`unix://${join(dir, 'docker.sock')}`) }, unreadable: () => [],
    caches: { macvlanNets: new Map(), nodes: new Map() },
  } as unknown as AgentContext;
  const ipam = new AgentIpam(ctx, { plugin: 'xnet', stateDir: dir, enqueue: () => {}, parentWaitMs: 0 });
  const node = (ipam as unknown as { nodeIpam: NodeIpam }).nodeIpam;
  try {
    await node.activate(); // its ping unanswered for 2 s: a restore, whose watch keeps a ping out
    for (const end = Date.now() + 15_000; accepted < 3 && Date.now() < end;) await sleep(50);
    expect(accepted, 'pings sent (the Activate\'s, then the restore\'s, each sent again at its bound)').toBeGreaterThanOrEqual(3);
    await sleep(500); // in the middle of the latest ping's 2 s
    expect(open.size, 'connections to the restoring dockerd still open').toBeLessThanOrEqual(1);
  } finally { await node.close(); }
}, 30_000);
