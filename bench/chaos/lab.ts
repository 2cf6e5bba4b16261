// The chaos lab: `xctl lab up`'s parts (pkg/lab) put together differently. Three hosts, a
// three-member etcd with TLS and auth, two controllers whose wall clock can be moved
// (libfaketime, for fault 8), and each host's agent reaching etcd through TCP proxies of its own,
// one per member, so that cutting a host off (fault 5) also cuts its agent off from etcd: the
// agents run in the root namespace, where the host's underlay link does not reach.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { createHost, createUnderlay, ensureBusyboxImage, labDirFor, startDockerd, startAgent, startController, type Lab, type LabHost } from '../../pkg/lab/index.js';
import { addLabHostIdentity, labTlsArgs } from '../../pkg/lab/auth.js';
import { readRecord, updateRecord } from '../../pkg/lab/record.js';
import { run } from '../../pkg/lab/run.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { startTcpProxy, type TcpProxy } from '../../test/harness/tcp-proxy.js';
import { rootClient, startEtcdCluster, type EtcdCluster } from './etcd-cluster.js';
import { connectionAs } from '../../pkg/auth/bootstrap.js';
import { createEtcdClient } from '../../pkg/etcd/client.js';
import { xctlPath } from './paths.js';

export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

export interface ChaosHost extends LabHost {
  /** this host's agent's way to etcd: one proxy per member */
  proxies: TcpProxy[];
}

export interface ChaosLab {
  lab: Lab;
  hosts: ChaosHost[];
  etcd: EtcdCluster;
  controllers: number;
  /** libfaketime's offset file for the controllers ("+0", "+600") */
  faketimeFile: string;
  /** the controllers' environment (libfaketime), for restarts */
  controllerEnv: Record<string, string>;
  /** as the lab's admin, to all members */
  admin: Etcd3;
  store: EtcdStore;
  /** `xctl ARGS` as the lab's admin */
  xctl(args: string[], timeoutMs?: number): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

export function newLabId(): string {
  return 'chaos' + randomBytes(3).toString('hex');
}

/** The controllers' environment: libfaketime reading its offset from a file, re-read every second. */
export function faketimeEnv(file: string): Record<string, string> {
  if (!existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} not found: install libfaketime (apt-get install libfaketime)`);
  writeFileSync(file, '+0\n');
  // only the wall clock moves, as when NTP steps it: monotonic timers are the real ones
  return { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_CACHE_DURATION: '1', DONT_FAKE_MONOTONIC: '1' };
}

async function hostProxies(etcd: EtcdCluster): Promise<TcpProxy[]> {
  return Promise.all(etcd.members.map((m) => startTcpProxy(m.endpoint)));
}

/** A proxy speaks plain TCP; the agent's TLS goes through it to the member's https endpoint. */
export function proxyEndpoints(h: ChaosHost): string[] {
  return h.proxies.map((p) => p.endpoint.replace(/^http:/, 'https:'));
}

/**
 * etcd 3.4 refuses a request that raced with a change to its auth store ("revision of auth
 * store is old"); admitting hosts changes it, so the runner's own calls around it retry.
 */
async function retryAuthRace<T>(f: () => Promise<T>, tries = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await f();
    } catch (e) {
      if (i >= tries || !/revision of auth store is old/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 200 * i));
    }
  }
}

/** Hosts with their Docker daemons, built side by side; all settle before a failure is thrown. */
async function buildHosts(lab: Lab, n: number): Promise<LabHost[]> {
  const settled = await Promise.allSettled(Array.from({ length: n }, async (_, i) => {
    const h = await createHost(lab, i + 1);
    await startDockerd(h);
    await ensureBusyboxImage(h);
    return h;
  }));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<LabHost>).value);
}

/** Each host's identity, one after the other, then its proxies and agent (the agent reports its Node). */
async function admitAndStartAgents(lab: Lab, etcd: EtcdCluster, hosts: LabHost[]): Promise<ChaosHost[]> {
  const out: ChaosHost[] = [];
  for (const h of hosts) {
    await retryAuthRace(() => addLabHostIdentity(lab, h));
    const host: ChaosHost = { ...h, proxies: await hostProxies(etcd) };
    await startAgent(lab, h, proxyEndpoints(host));
    out.push(host);
  }
  return out;
}

export async function buildChaosLab(id: string, opts: { hosts: number; controllers: number; say: (s: string) => void }): Promise<ChaosLab> {
  const lab = await createUnderlay(id, { dir: labDirFor(id) });
  const etcd = await startEtcdCluster(lab);
  opts.say(`etcd: ${etcd.members.length} members, TLS + auth (${etcd.endpoints.join(',')})`);
  const faketimeFile = join(lab.dir, 'faketime');
  const env = faketimeEnv(faketimeFile);
  for (let n = 1; n <= opts.controllers; n++) await startController(lab, n, etcd.endpoints, env);
  const hosts = await admitAndStartAgents(lab, etcd, await buildHosts(lab, opts.hosts));
  updateRecord(lab.dir, (r) => { r.complete = true; });
  opts.say(`hosts: ${hosts.map((h) => `${h.name} ${h.address}`).join(', ')}; agents reach etcd through their own proxies`);
  const rec = readRecord(lab.dir)!;
  const admin = createEtcdClient(connectionAs(etcd.endpoints, rec.auth!.ca, rec.auth!.admin));
  const xctl = (args: string[], timeoutMs = 60_000) => run(
    [process.execPath, xctlPath(), '--endpoints', etcd.endpoints.join(','), ...labTlsArgs(rec, rec.auth!.admin), ...args],
    { reject: false, timeoutMs, env: { XNET_LAB_DIR: lab.dir, XNET_LAB_ID: lab.id } },
  );
  return { lab, hosts, etcd, controllers: opts.controllers, faketimeFile, controllerEnv: env, admin, store: createEtcdStore(admin), xctl };
}

/** Closes what lives in this process (clients, proxies); the lab itself goes with destroyLab. */
export async function closeChaosLab(c: ChaosLab | undefined): Promise<void> {
  if (!c) return;
  c.admin.close();
  await Promise.all(c.hosts.flatMap((h) => h.proxies.map((p) => p.close())));
}

export { rootClient };
