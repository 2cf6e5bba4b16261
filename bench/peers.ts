// One real agent (the xnet-agent program, on a lab host with its own kernel namespace and
// dockerd) and 200 peer hosts applied at once: how long until all 200 routes are in the host's
// table, in how many `ip -batch` runs, and the agent's resident memory. Baseline, in the same
// run and namespace: the same 200 routes added by hand, one `ip route replace` each (what the
// operators' runbooks do).
//
//   npm run bench -- peers          PEERS=200 node dist/bench/peers.js   (root)
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { createEtcdStore } from '../pkg/store/etcd-store.js';
import { destroyLab, hostExec, type LabHost } from '../pkg/lab/index.js';
import { freePort } from '../pkg/etcd/server.js';
import { benchLabDir, benchLabHost } from './lib/lab-host.js';
import { benchEtcd, obj, sleep } from './lib/common.js';
import type { Store } from '../pkg/store/types.js';

const PEERS = Number(process.env.PEERS ?? 200);
const AGENT = resolve('dist/cmd/xnet-agent.js');
/** the protocol number xnet marks its routes with (docs/design.md) */
const XNET_PROTO = '76';

const peerSubnet = (i: number) => `10.${64 + (i >> 8)}.${i & 255}.0/24`;
const peerAddress = (i: number) => `198.18.0.${30 + i}`;

async function routesOf(h: LabHost, proto: string): Promise<number> {
  const r = await hostExec(h, ['ip', '-4', 'route', 'show', 'proto', proto], { timeoutMs: 10_000 });
  return r.stdout.split('\n').filter((l) => / via 198\.18\.0\./.test(l)).length;
}

async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!(await ok())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
  return performance.now() - t0;
}

/** host-1's own network, as the controller would have made it (no controller runs here). */
async function seedHost(store: Store): Promise<void> {
  await store.create(obj('ClusterNetwork', 'default', { cidr: '10.64.0.0/12', hostPrefix: 24 }));
  await store.create(obj('Node', 'host-1', {}));
  await store.create(obj('HostSubnet', 'default-host-1', { node: 'host-1', clusterNetwork: 'default', subnet: '10.79.255.0/24', bridge: 'br01' }));
}

/** The apply: 200 Nodes and their HostSubnets, then the statuses the controller writes. */
async function applyPeers(store: Store): Promise<void> {
  const objs = [];
  for (let i = 0; i < PEERS; i++) {
    objs.push(obj('Node', `peer-${i}`, { address: peerAddress(i) }));
    objs.push(obj('HostSubnet', `default-peer-${i}`, { node: `peer-${i}`, clusterNetwork: 'default', subnet: peerSubnet(i) }));
  }
  await store.applyAll(objs);
  const statuses = [];
  for (let i = 0; i < PEERS; i++) {
    statuses.push(store.writeStatus('HostSubnet', `default-peer-${i}`, { controller: true }, { subnet: peerSubnet(i), nodeAddress: peerAddress(i) }));
  }
  await Promise.all(statuses);
}

function startAgent(h: LabHost, endpoints: string[], port: number, stateDir: string): ResultPromise {
  return execa('node', [AGENT, '--node', 'host-1', '--netns', h.netns, '--docker-host', h.dockerHost, '--endpoints', endpoints.join(','),
    '--metrics-addr', `127.0.0.1:${port}`, '--resync', '3600', '--no-ipam-plugin', '--state-dir', stateDir], {
    reject: false, env: { XNET_LOG_LEVEL: 'info', NODE_OPTIONS: process.env.AGENT_NODE_OPTIONS ?? '' }, all: true, buffer: true,
  });
}

const kib = (pid: number, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

/** The runbook way: one `ip route replace` process per peer. */
async function baseline(h: LabHost): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < PEERS; i++) {
    await hostExec(h, ['ip', 'route', 'replace', `10.${96 + (i >> 8)}.${i & 255}.0/24`, 'via', peerAddress(i), 'proto', '77'], { check: true, timeoutMs: 10_000 });
  }
  return performance.now() - t0;
}

/** ops of every "routes" line the agent logged (one line per `ip -batch` of route changes) */
const routeBatches = (log: string) => [...log.matchAll(/\] routes \{[^}]*"ops":(\d+)/g)].map((m) => Number(m[1]));

interface AgentRun { ms: number; afterWriteMs: number; batches: number[]; rssMb: number[] }

/**
 * Times from `change`'s start until all the peers' routes are in the kernel. `startFirst`: the
 * agent runs (ready and settled) before `change`; otherwise it is started right after it.
 */
async function timedRun(h: LabHost, endpoints: string[], stateDir: string, change: () => Promise<void>, startFirst: boolean): Promise<AgentRun> {
  const port = await freePort();
  let agent: ResultPromise | undefined;
  const ready = async () => {
    agent = startAgent(h, endpoints, port, stateDir);
    await waitFor('agent ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, 60_000);
  };
  try {
    if (startFirst) { await ready(); await sleep(2000); }
    const rssBefore = agent ? kib(agent.pid!, 'VmRSS') : NaN;
    const t0 = performance.now();
    await change();
    const written = performance.now();
    if (!startFirst) await ready();
    await waitFor(`${PEERS} routes`, async () => (await routesOf(h, XNET_PROTO)) >= PEERS, 60_000);
    const done = performance.now();
    await sleep(3000);
    const rssMb = [rssBefore, kib(agent!.pid!, 'VmRSS'), kib(agent!.pid!, 'VmHWM')].map((k) => k / 1024);
    agent!.kill('SIGTERM');
    const batches = routeBatches(String((await agent!).all ?? ''));
    return { ms: done - t0, afterWriteMs: done - written, batches, rssMb };
  } finally {
    agent?.kill('SIGKILL');
  }
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const line = (k: string, v: string) => process.stdout.write(`  ${k.padEnd(48)} ${v}\n`);

function report(live: AgentRun, start: AgentRun, byHand: number): void {
  process.stdout.write(`peers: one real xnet-agent (AGENT_NODE_OPTIONS="${process.env.AGENT_NODE_OPTIONS ?? ''}"), ${PEERS} peer hosts, stock etcd\n`);
  line('applied while the agent runs: routes in, from the apply', secs(live.ms));
  line('  from the last write of the apply', secs(live.afterWriteMs));
  line('  ip -batch runs of route changes (ops each)', `${live.batches.length}: ${live.batches.join(', ')}`);
  line('  resident memory before / after / peak', live.rssMb.map((m) => `${m.toFixed(0)} MB`).join(' / '));
  line('agent started with the peers there: routes in', `${secs(start.ms)} from its start`);
  line('  ip -batch runs of route changes (ops each)', `${start.batches.length}: ${start.batches.join(', ')}`);
  line(`baseline: ${PEERS} x ip route replace (runbook)`, `${secs(byHand)} (${(byHand / live.afterWriteMs).toFixed(1)}x the agent's time from the last write)`);
}

async function main(): Promise<void> {
  const { id, dir } = benchLabDir('bp');
  const etcd = await benchEtcd('peers');
  const store = createEtcdStore(etcd.client, '/xnet');
  try {
    const h = await benchLabHost(id, dir);
    await seedHost(store);
    const live = await timedRun(h, etcd.endpoints, `${dir}/agent-state`, () => applyPeers(store), true);
    const flush = async () => { await hostExec(h, ['ip', 'route', 'flush', 'proto', XNET_PROTO], { check: true }); };
    const start = await timedRun(h, etcd.endpoints, `${dir}/agent-state`, flush, false);
    report(live, start, await baseline(h));
  } finally {
    await store.close().catch(() => undefined);
    await destroyLab(dir).catch((e) => console.error('lab down:', e));
    await etcd.stop();
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
