// Through a dockerd's restore the IPAM plugin keeps one ping of Docker's API out, sent again as
// soon as one fails at its 2 s bound (pkg/dockeripam/restore.ts). A restoring dockerd's socket
// accepts and answers nothing: the bound used to reject the ping without ending its request, so
// each ping sent again left one more connection open until the Docker client's own 30 s timeout
// (about 15 seen on a real restore). A silent unix socket stands in for that dockerd (as in
// docker-events-deadline.test.ts); the agent's IPAM wiring (pkg/agent/ipam-host.ts) and its
// DockerClient are the real ones. Counted at the server: connections still open.
import { expect, it } from 'vitest';
import { AgentIpam } from '../../pkg/agent/ipam-host.js';
import type { AgentContext } from '../../pkg/agent/context.js';
import type { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import { DockerClient } from '../../pkg/docker/client.js';
import { createLogger } from '../../pkg/log.js';
import { SELF } from '../../pkg/netlink/target.js';
import { useSilentDocker } from '../harness/silent-docker.js';

const log = createLogger('agent');
log.level = 'error';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const docker = useSilentDocker();

it('a restoring dockerd that holds every ping: each ping given up on is closed, one connection open at a time', async () => {
  const ctx = {
    node: 'host-1', log, dp: { target: SELF, docker: new DockerClient(docker.url) }, unreadable: () => [],
    caches: { macvlanNets: new Map(), nodes: new Map() },
  } as unknown as AgentContext;
  const ipam = new AgentIpam(ctx, { plugin: 'xnet', stateDir: docker.dir, enqueue: () => {}, parentWaitMs: 0 });
  const node = (ipam as unknown as { nodeIpam: NodeIpam }).nodeIpam;
  try {
    await node.activate(); // its ping unanswered for 2 s: a restore, whose watch keeps a ping out
    for (const end = Date.now() + 15_000; docker.accepted < 3 && Date.now() < end;) await sleep(50);
    expect(docker.accepted, 'pings sent (the Activate\'s, then the restore\'s, each sent again at its bound)').toBeGreaterThanOrEqual(3);
    await sleep(500); // in the middle of the latest ping's 2 s
    expect(docker.open.size, 'connections to the restoring dockerd still open').toBeLessThanOrEqual(1);
  } finally { await node.close(); }
}, 30_000);
