// What the tests that call reconcileNic directly share: ContainerNic test-eth1 for container
// "test" on host-1 (ClusterNetwork default, HostSubnet default-host-1 on bridge br01), the
// agent context it runs in (its statuses handed to the test, not written to etcd), and ways
// to look at namespaces through file handles.
import { execa } from 'execa';
import { afterEach } from 'vitest';
import { useTestLab, type TestLab } from '../harness/lab.js';
import { readdirSync, statSync } from 'node:fs';
import { API_VERSION, type AnyObject } from '../../pkg/api/index.js';
import { ContainerWatches } from '../../pkg/agent/container-watch.js';
import type { AgentContext, Ready } from '../../pkg/agent/context.js';
import { Dataplane, type AgentDataplane } from '../../pkg/agent/dataplane.js';
import { reconcileNic } from '../../pkg/agent/reconcilers/nics.js';
import { netnsTarget } from '../../pkg/netlink/target.js';
import { MacWaits } from '../../pkg/agent/mac-wait.js';
import { hostExec, type LabHost } from '../../pkg/lab/index.js';
import { createLogger } from '../../pkg/log.js';

const meta = (name: string) => ({ name, generation: 1 });
export const NIC = {
  apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta('test-eth1'),
  spec: { node: 'host-1', container: 'test', ifName: 'eth1', network: { clusterNetwork: 'default' }, defaultRoute: true },
  status: { ip: '10.76.1.84', prefixLength: 24, gateway: '10.76.1.1', hostSubnet: 'default-host-1' },
} as unknown as AnyObject;
const CN = { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta('default'), spec: { cidr: '10.76.0.0/16', hostPrefix: 24 } } as unknown as AnyObject;
const HS = {
  apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta('default-host-1'),
  spec: { node: 'host-1', clusterNetwork: 'default' }, status: { subnet: '10.76.1.0/24', gateway: '10.76.1.1', bridge: 'br01' },
} as unknown as AnyObject;
const cache = (...objs: AnyObject[]) => ({ get: (n: string) => objs.find((o) => o.metadata.name === n), list: () => objs });

/** The namespace a file names, as device:inode (a /proc link or a bind mount alike); 'gone' when it cannot be read. */
export const nsOf = (path: string) => { try { const s = statSync(path); return `${s.dev}:${s.ino}`; } catch { return 'gone'; } };
/** This process's open handles on the namespace `ns`. */
export const handlesOn = (ns: string) => readdirSync('/proc/self/fd').filter((fd) => nsOf(`/proc/self/fd/${fd}`) === ns).length;
/** argv in the namespace the file `netns` names. */
export const runIn = (netns: string, argv: string[]) => execa('nsenter', [`--net=${netns}`, ...argv], { reject: false, timeout: 10_000 });

/** host-1's bridge br01, marked as HostSubnet default-host-1's, with its gateway (what Docker and the agent would have made). */
export async function markedBridge(h: LabHost): Promise<void> {
  const have = await hostExec(h, ['ip', 'link', 'show', 'br01']);
  if (have.exitCode === 0) return;
  await hostExec(h, ['ip', '-batch', '-'], { check: true, input: 'link add br01 type bridge\nlink set br01 alias xnet:hostsubnet:default-host-1\naddr add 10.76.1.1/24 dev br01\nlink set br01 up\n' });
}

/** An agent context on host-1 with dataplane `dp`; `onWrite` sees each status written, `watches` gets the NIC's watcher. */
export function nicContext(dp: AgentDataplane, onWrite: (r: Ready) => Promise<void>, watches: ContainerWatches): AgentContext {
  const log = createLogger('agent', { node: 'host-1' });
  log.level = 'error';
  return {
    node: 'host-1', dp, log, capabilities: {}, routeProblems: [], removedNics: new Map(), macWaits: new MacWaits(),
    caches: { nics: cache(NIC), clusterNetworks: cache(CN), hostSubnets: cache(HS), macvlanNets: cache(), nodes: cache() },
    status: { write: async (_k: unknown, _o: unknown, _f: unknown, r: Ready) => onWrite(r), reported: async () => false, readyStatus: () => undefined, previousRun: () => undefined, remove: async () => undefined },
    // passed through as the reconcile gives them (a pinned namespace; before the fix, a PID)
    watchContainer: (ns: never, nic: string) => watches.watch(ns, nic),
    unwatchNic: (nic: string, keep?: number) => watches.unwatch(nic, keep),
  } as unknown as AgentContext;
}

/**
 * One reconcile of ContainerNic `name` on lab host `h`, its caches holding `objects` (by cache,
 * over nicContext's) and its watcher added to `watchers` (for the test to close): the statuses
 * it wrote, as "reason: message".
 */
export async function reconcileNicOn(h: LabHost, watchers: ContainerWatches[], objects: Partial<Record<'nics' | 'macvlanNets', AnyObject[]>>, name: string): Promise<string[]> {
  const written: string[] = [];
  const watches = new ContainerWatches(() => undefined);
  watchers.push(watches);
  const ctx = nicContext(new Dataplane(netnsTarget(h.netns), h.dockerHost), async (r: Ready) => { written.push(`${r.reason}: ${r.message}`); }, watches);
  for (const [k, objs] of Object.entries(objects)) Object.assign(ctx.caches, { [k]: cache(...objs) });
  await reconcileNic(ctx, name);
  return written;
}

/**
 * A one-host lab for a test that calls reconcileNicOn on host-1: the watches it opened are
 * closed and container `test` removed after each test, then `more` (the test's own leftovers).
 */
export function useNicLab(more?: (lab: TestLab, h: LabHost) => Promise<unknown>): { lab: () => TestLab; h: () => LabHost; watchers: ContainerWatches[] } {
  const lab = useTestLab({ hosts: 1 });
  const h = (): LabHost => lab().host(1);
  const watchers: ContainerWatches[] = [];
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.closeAll()));
    await lab().docker(h(), ['rm', '-f', 'test']);
    await more?.(lab(), h());
  });
  return { lab, h, watchers };
}
