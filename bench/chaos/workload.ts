// What runs on the chaos lab while faults are injected: seed 000 and seed 002 as shipped
// (manifests/examples), plus per host a prober container "test" (eth0 on net1, the seed's eth1
// NIC, and a macvlan NIC mv0 on macvlan200) and an idle container "side" with a NIC of its own.
import { join } from 'node:path';
import { API_VERSION, type AnyObject, type Kind } from '../../pkg/api/index.js';
import { getCondition, isReady } from '../../pkg/api/conditions.js';
import type { Condition } from '../../pkg/api/fields.js';
import { hostDocker } from '../../pkg/lab/index.js';
import type { ChaosHost, ChaosLab } from './lab.js';
import { repoRoot } from './paths.js';
import { PROBER_IMAGE, PROBER_PORT, proberOutDir, writeTargets, type Target } from './prober.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `f` every `everyMs` until it returns a value other than undefined/false; throws after timeoutMs. */
export async function waitFor<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 90_000, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(everyMs);
  }
}

const obj = (kind: Kind, name: string, spec: Record<string, unknown>): AnyObject => ({ apiVersion: API_VERSION, kind, metadata: { name }, spec }) as AnyObject;

export const PATHS = ['eth0', 'eth1', 'mv'] as const;
export type ProbePath = (typeof PATHS)[number];

/** The NICs the suite adds to the seeds' objects (host-3 is not in seed 000). */
function chaosNics(hosts: ChaosHost[]): AnyObject[] {
  const out: AnyObject[] = [];
  for (const h of hosts) {
    if (h.index > 2) out.push(obj('ContainerNic', `${h.name}-test-eth1`, { node: h.name, container: 'test', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    out.push(obj('ContainerNic', `${h.name}-test-mv`, { node: h.name, container: 'test', ifName: 'mv0', network: { macvlanNet: 'macvlan200' } }));
    out.push(obj('ContainerNic', `${h.name}-side-eth1`, { node: h.name, container: 'side', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
  }
  return out;
}

export async function readyNow(c: ChaosLab, kind: Kind, name: string): Promise<boolean> {
  const o = await c.store.get(kind, name).catch(() => undefined);
  return !!o && isReady(o as never);
}

/** Every Node of the lab's hosts Ready, or which is not. */
export async function nodesReady(c: ChaosLab): Promise<string | undefined> {
  for (const h of c.hosts) if (!(await readyNow(c, 'Node', h.name))) return `Node ${h.name} not Ready`;
  return undefined;
}

/** Waits for Ready=True; the error quotes the object's last Ready condition. */
export async function waitReady(c: ChaosLab, kind: Kind, name: string, timeoutMs = 90_000): Promise<AnyObject> {
  let last: AnyObject | undefined;
  const deadline = Date.now() + timeoutMs;
  return waitFor(`${kind} ${name} Ready`, async () => {
    last = await c.store.get(kind, name);
    if (last && isReady(last as never)) return last;
    if (Date.now() + 600 > deadline) throw new Error(`its Ready condition: ${JSON.stringify(getCondition((last?.status as { conditions?: Condition[] } | undefined)?.conditions, 'Ready') ?? 'none')}`);
    return undefined;
  }, timeoutMs);
}

/** An address for the prober's eth0 inside the part of the host's subnet Docker hands out. */
function proberAddress(hs: AnyObject): string {
  const st = hs.status as { subnet?: string; dockerRange?: string };
  const range = st.dockerRange ?? st.subnet!;
  const [base] = range.split('/');
  const o = base.split('.').map(Number);
  return `${o[0]}.${o[1]}.${o[2]}.${o[3] + 100}`;
}

async function startContainers(c: ChaosLab, h: ChaosHost, eth0: string): Promise<void> {
  const run = (args: string[]) => hostDocker(h, ['run', '-d', '--restart', 'always', ...args], { check: true, timeoutMs: 60_000 });
  await run(['--name', 'test', '--net', 'net1', '--ip', eth0, '-v', `${proberOutDir(c.lab, h)}:/out`,
    PROBER_IMAGE, '/bin/prober', h.name, String(PROBER_PORT), '/out']);
  await run(['--name', 'side', '--net', 'net1', PROBER_IMAGE, 'sleep', '1000000']);
}

/** Applies the seeds and the suite's NICs, starts the containers, waits for every NIC; returns each host's targets. */
export async function startWorkload(c: ChaosLab, say: (s: string) => void): Promise<Map<string, Target[]>> {
  for (const h of c.hosts) await waitReady(c, 'Node', h.name);
  const seeds = ['seed000.yaml', 'seed002.yaml'].flatMap((f) => ['-f', join(repoRoot(), 'manifests', 'examples', f)]);
  const applied = await c.xctl(['apply', ...seeds]);
  if (applied.exitCode !== 0) throw new Error(`xctl apply seeds: ${applied.stderr || applied.stdout}`);
  await c.store.applyAll(chaosNics(c.hosts));
  say('applied seed 000, seed 002 and the suite\'s NICs');
  const eth0 = new Map<string, string>();
  for (const h of c.hosts) eth0.set(h.name, proberAddress(await waitReady(c, 'HostSubnet', `default-${h.name}`)));
  await waitReady(c, 'MacvlanNet', 'macvlan200');
  await Promise.all(c.hosts.map((h) => startContainers(c, h, eth0.get(h.name)!)));
  const nicIp = async (name: string) => ((await waitReady(c, 'ContainerNic', name)).status as { ip: string }).ip;
  const addrs = new Map<string, Record<ProbePath, string>>();
  for (const h of c.hosts) {
    addrs.set(h.name, { eth0: eth0.get(h.name)!, eth1: await nicIp(`${h.name}-test-eth1`), mv: await nicIp(`${h.name}-test-mv`) });
    await waitReady(c, 'ContainerNic', `${h.name}-side-eth1`);
  }
  const targets = new Map<string, Target[]>();
  for (const h of c.hosts) {
    const t = c.hosts.filter((p) => p !== h).flatMap((p) => PATHS.map((path) => ({ label: `${p.name}/${path}`, address: addrs.get(p.name)![path] })));
    writeTargets(c.lab, h, t);
    targets.set(h.name, t);
  }
  say(`probers running: ${[...addrs].map(([n, a]) => `${n} eth0 ${a.eth0} eth1 ${a.eth1} mv0 ${a.mv}`).join('; ')}`);
  return targets;
}
