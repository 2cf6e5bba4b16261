// A container's PID can name another process by the time the agent acts on it: the container
// died while the NIC's reconcile waited for etcd (the Attaching report), and the PID went to a
// process of the host. The reconcile pins the container's namespace when it checks it
// (pkg/netlink/pinned.ts) and makes every read, change and its watcher go through that
// handle, so nothing lands in the host.
//
// No Docker: the lab's host-1 namespace is the managed host (its agent's Dataplane, bridge
// br01 marked as HostSubnet default-host-1's), Docker's inspect is a stub, and the "container"
// is a shell in a namespace of its own. While the agent writes Attaching, that shell execs
// `nsenter --net=<host-1> sleep` under the same PID: from then on /proc/<pid>/ns/net is the
// host's namespace, exactly as for a PID reused by a host process, while the container's
// namespace is left with no process in it. Nothing here touches the test's own namespace.
import { execa, type ResultPromise } from 'execa';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ContainerWatches } from '../../pkg/agent/container-watch.js';
import type { AgentContext, Ready } from '../../pkg/agent/context.js';
import { Dataplane } from '../../pkg/agent/dataplane.js';
import { reconcileNic } from '../../pkg/agent/reconcilers/nics.js';
import { hostExec, type LabHost } from '../../pkg/lab/index.js';
import { pidsInNetns } from '../../pkg/lab/proc.js';
import { netnsTarget } from '../../pkg/netlink/target.js';
import { useTestLab } from '../harness/lab.js';
import { eventually } from './helpers.js';
import { handlesOn, markedBridge, nicContext, nsOf, runIn as run } from './nic-reconcile-context.js';

const lab = useTestLab({ hosts: 1, docker: false });
const spawned: ResultPromise[] = [];
const fds: number[] = [];
const watchers: ContainerWatches[] = [];
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.closeAll()));
  for (const p of spawned.splice(0)) { p.kill('SIGKILL'); await p.catch(() => undefined); }
  for (const fd of fds.splice(0)) closeSync(fd);
});

const cmdline = (pid: number) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '); } catch { return ''; } };

/** The host's state the NIC must never reach: link names, IPv4 addresses and routes (every table), ARP sysctls. */
async function hostState(h: LabHost): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, argv] of Object.entries({
    links: ['ip', '-o', 'link', 'show'], addrs: ['ip', '-o', '-4', 'addr', 'show'], routes: ['ip', '-4', 'route', 'show', 'table', 'all'],
    arp: ['sysctl', 'net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce'],
  })) out[k] = (await hostExec(h, argv)).stdout;
  // a port on br01 gives it carrier: its routes lose "linkdown", no change of what they say
  out.routes = out.routes.replace(/ linkdown/g, '');
  // the veth's host end belongs in the host (on br01): only it may be new there
  out.links = out.links.split('\n').map((l) => l.split(': ')[1]?.split('@')[0]).filter((n) => n && !/^xv[0-9a-f]{8}$/.test(n)).sort().join(' ');
  return out;
}

/**
 * The "container": a shell in a namespace of its own that, once told, execs into the host's
 * namespace under the same PID. Returns its PID, a handle of the test's own on its namespace
 * (how the test looks into it afterwards) and `reuse`, which moves the PID into the host.
 */
async function container(h: LabHost): Promise<{ pid: number; ns: string; path: string; reuse: () => Promise<void> }> {
  const p = execa('unshare', ['--net', 'sh', '-c', `read go; exec nsenter --net=${h.netnsPath} sleep 300`], { reject: false });
  spawned.push(p);
  const pid = p.pid!;
  const self = nsOf('/proc/self/ns/net');
  await eventually(async () => ![self, 'gone'].includes(nsOf(`/proc/${pid}/ns/net`)), 'the container\'s own namespace', 5000);
  const fd = openSync(`/proc/${pid}/ns/net`, 'r');
  fds.push(fd);
  const ns = nsOf(`/proc/self/fd/${fd}`);
  const reuse = async () => {
    p.stdin!.write('go\n');
    await eventually(async () => nsOf(`/proc/${pid}/ns/net`) === nsOf(h.netnsPath), 'the PID in the host\'s namespace', 5000);
  };
  return { pid, ns, path: `/proc/${process.pid}/fd/${fd}`, reuse };
}

/** An agent context on host-1 whose Docker says container "test" runs as `pid`; `onWrite` sees each status written. */
function agentContext(h: LabHost, pid: number, onWrite: (r: Ready) => Promise<void>): AgentContext {
  const dp = new Dataplane(netnsTarget(h.netns));
  Object.assign(dp, { docker: { inspectContainer: async () => ({ id: 'c0ffee', name: 'test', running: true, pid, startedAt: '2026-03-01T10:00:00Z', networkMode: 'bridge' }) } });
  const watches = new ContainerWatches(() => undefined);
  watchers.push(watches);
  return nicContext(dp, onWrite, watches);
}

describe('a NIC reconcile whose container PID turns into a host process midway', () => {
  it('makes the NIC in the pinned container namespace, and changes nothing in the host', async () => {
    const h = lab().host(1);
    await markedBridge(h);
    const before = await hostState(h);
    const c = await container(h);
    const reasons: string[] = [];
    const ctx = agentContext(h, c.pid, async (r) => {
      reasons.push(r.reason);
      // the Attaching report is where the reconcile waited for etcd: the container dies and its PID is a host process's now
      if (r.reason === 'Attaching') await c.reuse();
    });
    await reconcileNic(ctx, 'test-eth1');
    expect(reasons).toEqual(['Attaching', 'Converged']);
    expect(nsOf(`/proc/${c.pid}/ns/net`), 'the PID names a process of the host now').toBe(nsOf(h.netnsPath));

    // nothing reached the host: no eth1, no address, the default route and ARP sysctls as they were
    expect(await hostState(h)).toEqual(before);
    // all of it is in the container's namespace, reached through the test's own handle
    expect((await run(c.path, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'])).stdout).toContain('inet 10.76.1.84/24');
    expect((await run(c.path, ['ip', 'route', 'show', 'default'])).stdout).toContain('default via 10.76.1.1 dev eth1 proto 76');
    expect((await run(c.path, ['sysctl', '-n', 'net.ipv4.conf.eth1.arp_ignore'])).stdout.trim()).toBe('1');

    // the watcher (ip monitor) runs in the container's namespace, on a handle of its own; none runs in the host
    const monitors = (path: string) => pidsInNetns(path).filter((p) => / monitor /.test(cmdline(p)));
    await eventually(async () => monitors(c.path).length === 1, 'the watcher in the container\'s namespace', 5000);
    expect(monitors(h.netnsPath)).toEqual([]);
    expect(handlesOn(c.ns), 'the test\'s handle and the watcher\'s; the reconcile closed its own').toBe(2);
    await watchers[0].closeAll();
    expect(handlesOn(c.ns), 'the watcher closed its handle when it ended').toBe(1);
  }, 60_000);

  it('closes its handle when it refuses a PID in the host\'s namespace, and when the reconcile fails', async () => {
    const h = lab().host(1);
    await markedBridge(h);
    const before = await hostState(h);
    const hostNs = nsOf(h.netnsPath);
    const inHost = execa('nsenter', [`--net=${h.netnsPath}`, 'sleep', '300'], { reject: false });
    spawned.push(inHost);
    await eventually(async () => nsOf(`/proc/${inHost.pid}/ns/net`) === hostNs, 'the process in the host', 5000);
    const reasons: string[] = [];
    await reconcileNic(agentContext(h, inHost.pid!, async (r) => { reasons.push(r.reason); }), 'test-eth1');
    expect(reasons).toEqual(['HostNetworkContainer']);
    expect(handlesOn(hostNs)).toBe(0);

    const c = await container(h);
    const failing = agentContext(h, c.pid, async (r) => { if (r.reason === 'Attaching') throw new Error('etcd is gone'); });
    await expect(reconcileNic(failing, 'test-eth1')).rejects.toThrow('etcd is gone');
    expect(handlesOn(c.ns), 'only the test\'s own handle').toBe(1);
    expect((await run(c.path, ['ip', 'link', 'show', 'eth1'])).exitCode, 'nothing made before Attaching was written').not.toBe(0);
    expect(await hostState(h)).toEqual(before);
  }, 60_000);
});
