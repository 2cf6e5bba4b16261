// Fault 7: on every host at once, a container restarted, a NIC's host end deleted and a peer
// route deleted. The agents must put everything back, driven by events, well before any
// periodic resync.
import { hostDocker, hostExec } from '../../../pkg/lab/index.js';
import { breakVerified } from '../../../pkg/lab/breaks.js';
import { nodesReady } from '../workload.js';
import type { ChaosHost, ChaosLab } from '../lab.js';
import type { Fault, Flow } from './types.js';

const next = (c: ChaosLab, h: ChaosHost) => c.hosts[h.index % c.hosts.length];

async function breakHost(c: ChaosLab, h: ChaosHost): Promise<string> {
  const exec = (argv: string[]) => hostExec(h, argv, { timeoutMs: 10_000 });
  const nic = await c.store.get('ContainerNic', `${h.name}-test-eth1`);
  const veth = (nic?.status as { hostInterface?: string } | undefined)?.hostInterface;
  const peer = (await c.store.get('HostSubnet', `default-${next(c, h).name}`))?.status as { subnet?: string } | undefined;
  if (!veth || !peer?.subnet) throw new Error(`${h.name}: no host interface for its eth1 NIC or no subnet for ${next(c, h).name}`);
  await Promise.all([
    hostDocker(h, ['restart', '-t', '1', 'side'], { check: true, timeoutMs: 30_000 }),
    breakVerified(exec, ['ip', 'link', 'del', veth], { argv: ['ip', '-o', 'link', 'show'], gone: `${veth}@` }),
    breakVerified(exec, ['ip', 'route', 'del', peer.subnet], { argv: ['ip', 'route', 'show'], gone: `${peer.subnet} ` }),
  ]);
  return `${h.name}: container side restarted, ${veth} (test eth1's host end) deleted, route ${peer.subnet} deleted`;
}

export const drift: Fault = {
  id: 7,
  title: 'on every host at once: a container restarted, a NIC\'s host end deleted, a route deleted',
  exercises: 'event-driven healing: Docker start events (followDocker) put a restarted container\'s NIC back, kernel link and '
    + 'route notifications (followKernel, pkg/netlink) trigger the NIC and route reconcilers, plans batched into `ip -batch` '
    + '(pkg/agent/planner/ops.ts); only what xnet marked (proto 76, ifalias) is touched',
  async inject({ c, say }) {
    const done = await Promise.all(c.hosts.map((h) => breakHost(c, h)));
    for (const d of done) say(d);
    // the eth1 NICs lost their host end, and each host lost its route to the next one
    const hit = (f: Flow) => f.path === 'eth1' || (f.path === 'eth0' && f.to === next(c, c.hosts.find((h) => h.name === f.from)!).name);
    return { end: Date.now(), affected: hit, settled: () => nodesReady(c) };
  },
};
