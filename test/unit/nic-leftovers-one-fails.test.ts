// The sweep of links of gone NICs through the running containers: one container that cannot be
// looked through (Docker's inspect of it timed out; its namespace cannot be read) is its own
// failure, logged with the container, and the containers after it are swept all the same; the
// pass then fails (the first error), so it is tried again. Before, the loop stopped at the
// first failure and the later containers kept their leftover links until another pass. The
// sweep against a recorded dataplane: Docker's and the kernel's answers are given.
import { describe, expect, it } from 'vitest';
import type { AgentContext } from '../../pkg/agent/context.js';
import { sweepContainerNics } from '../../pkg/agent/reconcilers/nic-leftovers.js';
import type { IpOp } from '../../pkg/agent/planner/ops.js';
import { DockerError, type ContainerInfo } from '../../pkg/docker/types.js';
import type { Link } from '../../pkg/netlink/types.js';

const PIDS: Record<string, number> = { c1: 101, c2: 102, c3: 103 };
const info = (id: string): ContainerInfo => ({ id, name: id, running: true, pid: PIDS[id], startedAt: 't0', networkMode: 'bridge', restartPolicy: '', pinnedIps: {} });
/** A macvlan left by a NIC that is gone, in every container. */
const leftover: Link = { ifindex: 9, name: 'eth3', kind: 'macvlan', mac: '02:00:00:00:00:09', mtu: 1500, up: true, promisc: false, alias: 'xnet:nic:gone' };

/** The sweep, Docker failing to inspect `failing`; what it deleted (`<pid> <link>`) and warned. */
async function sweep(failing: string) {
  const deleted: string[] = [];
  const warnings: Array<{ message: string; meta?: Record<string, unknown> }> = [];
  const ctx = {
    node: 'host-1',
    log: { info: () => undefined, debug: () => undefined, warn: (message: string, meta?: Record<string, unknown>) => { warnings.push({ message, meta }); } },
    caches: { nics: { list: () => [] } },
    dp: {
      docker: {
        runningContainers: async () => ['c1', 'c2', 'c3'],
        inspectContainer: async (id: string) => {
          if (id === failing) throw new DockerError('DockerTimedOut', `inspect container ${id}: Docker did not answer in time`);
          return info(id);
        },
      },
      pinNetns: async (pid: number) => ({ pid, path: `/proc/self/fd/${pid}`, dev: 1, ino: pid, close: async () => undefined }),
      inHostNetns: async () => false,
      containerState: async () => ({ links: [leftover], addrs: [], routes: [] }),
      execute: async (ops: IpOp[]) => { for (const op of ops) deleted.push(`${(op as { netns: { pid: number } }).netns.pid} ${(op as { name: string }).name}`); },
    },
  } as unknown as AgentContext;
  const outcome = await sweepContainerNics(ctx).then((n) => `removed ${n}`, (e: Error) => `failed: ${e.message}`);
  return { deleted, warnings, outcome, swept: ctx.containersSwept };
}

describe('the sweep of gone NICs\' links through the running containers', () => {
  it('sweeps the containers after one that cannot be looked through', async () => {
    const r = await sweep('c1');
    expect(r.deleted).toEqual(['102 eth3', '103 eth3']);
    expect(r.warnings).toEqual([{ message: 'could not look through a container for links of gone NICs', meta: { container: 'c1', error: 'inspect container c1: Docker did not answer in time' } }]);
    // tried again: not marked swept, the failure is the pass's
    expect(r.outcome).toBe('failed: inspect container c1: Docker did not answer in time');
    expect(r.swept).toBeFalsy();
  });

  it('with every container looked through, the pass is done', async () => {
    const r = await sweep('none');
    expect(r.deleted).toEqual(['101 eth3', '102 eth3', '103 eth3']);
    expect(r.outcome).toBe('removed 3');
    expect(r.swept).toBe(true);
  });
});
