// Faults 5 and 6: one host loses its underlay link, or its Docker daemon. Flows of that host
// stop (the first) or its containers restart (the second); every other flow must go on, and the
// host must come back by itself.
import { crashAndRestartDockerd, hostExec } from '../../../pkg/lab/index.js';
import { run } from '../../../pkg/lab/run.js';
import { nodesReady, sleep } from '../workload.js';
import type { ChaosHost, ChaosLab } from '../lab.js';
import { touches, type Fault } from './types.js';

/** The target: the cut-off host's flows resume within 5 s of its link coming back. */
const RESUME_MS = 5000;

const victim = (c: ChaosLab): ChaosHost => c.hosts[1];

/** The host's cable, seen from the switch: its port on the underlay bridge (in the underlay namespace). */
async function setPort(c: ChaosLab, h: ChaosHost, state: 'up' | 'down'): Promise<void> {
  await run(['ip', '-n', c.lab.underlayNetns, 'link', 'set', h.name, state], { timeoutMs: 10_000 });
  const eth0 = (await hostExec(h, ['ip', '-o', 'link', 'show', h.iface], { timeoutMs: 10_000 })).stdout;
  if (state === 'down' && !eth0.includes('NO-CARRIER')) throw new Error(`link down did not take: ${h.name} ${h.iface} still has carrier: ${eth0}`);
}

export const linkDown: Fault = {
  id: 5,
  title: 'a host\'s underlay link down, then up',
  exercises: 'an agent cut off from etcd (its proxies refuse it) and from its peers: it keeps the host as it is '
    + '(no teardown on lost etcd, informer caches), its node lease expires and it re-registers (Store.nodeLease, register), '
    + 'watches resumed or relisted on reconnect; the peers keep their routes to it (routes are declared state, not liveness)',
  async inject({ c, say, opts }) {
    const h = victim(c);
    for (const p of h.proxies) p.cut();
    await setPort(c, h, 'down');
    say(`${h.name}: underlay link down (carrier lost on ${h.iface}), its agent cut off from etcd; up again after ${opts.linkOutageMs / 1000} s`);
    await sleep(opts.linkOutageMs);
    await setPort(c, h, 'up');
    for (const p of h.proxies) p.heal();
    return { end: Date.now(), affected: touches(h.name), resumeWithinMs: RESUME_MS, settled: () => nodesReady(c), notes: [`${h.name} cut off for ${opts.linkOutageMs / 1000} s`] };
  },
};

export const dockerdKilled: Fault = {
  id: 6,
  title: 'a host\'s dockerd SIGKILLed and restarted',
  exercises: 'the agent\'s Docker event stream lost and re-followed (followDocker), containers restarted by their restart policy '
    + 'getting their ContainerNics back (reconcileNic on container start, NIC adoption by ifalias), the host\'s bridge networks '
    + 'and routes left alone while Docker is away',
  async inject({ c, say }) {
    const h = victim(c);
    // SIGKILL by its recorded PID; the stale pid file of its dead containerd goes (clearDeadContainerd)
    const pid = await crashAndRestartDockerd(h);
    say(`${h.name}: dockerd (pid ${pid}) SIGKILLed and started again`);
    return { end: Date.now(), affected: touches(h.name), settled: () => nodesReady(c) };
  },
};
