// Hollow-node benchmark (issue 10 part 5, after Kubernetes' kubemark): N simulated hosts, each
// running the real agent (store, informers, planners, reconcile loop) on a recording dataplane,
// spread over a few child processes, against ONE stock etcd (default limits) with two
// xnet-controller processes. The same run measures the design before issue 10 as the baseline
// (bench/scale/hollow.ts: every informer watching the whole registry, a status rewrite every
// 5 s, one create-if-absent transaction per address), each design on a fresh etcd.
//
//   npm run bench -- scale                     1,000 hosts (SCALE_NODES), 4 processes
//   SCALE_NODES=50 SCALE_NICS=2000 node dist/bench/scale.js   ~6 minutes on a loaded 2-core machine
//   (SCALE_PROCS child processes, SCALE_STEADY_S seconds of steady state; docs/scale.md;
//   SCALE_MODES=xnet runs one design only, SCALE_CONTROLLER_NODE_ARGS="--cpu-prof" profiles the controllers,
//   SCALE_ROUTE_REPEAT=n registers n new nodes one after another and prints CPU per agent per new node,
//   SCALE_NIC_PROFILE=<dir> writes each hollow process's CPU profile over the NICs' phase)
//
// Printed: etcd events and bytes sent per second at steady state; heap per agent; time from a
// new node's registration until every agent has its route in place; time until 10,000
// ContainerNics spread over the nodes have addresses, applied while everything runs and (xnet)
// stored before its controllers start, as the baseline allocates; which process spent the CPU
// of each NIC phase; ratios against the issue's targets. The hollow processes run at nice 19
// (HOLLOW_NICE below): the control plane's figures are not the agents' share of this machine.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, setPriority, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { callDeadlines, etcdChannelOptions } from '../pkg/etcd/client.js';
import { startEtcdServer, type EtcdServer } from '../pkg/etcd/server.js';
import { createEtcdStore } from '../pkg/store/etcd-store.js';
import { Keys } from '../pkg/store/keys.js';
import { countKeys, obj, sleep } from './lib/common.js';
import { nodeName, underlayAddress, type HollowConfig } from './scale/config.js';
import { cpuMeter } from './scale/cpu.js';
import { baselineAllocate, etcdCounters, formatReport, type Figures } from './scale/report.js';
import { formatTrace, watchNewNode, type ProcessTrace } from './scale/route-trace.js';

const here = dirname(fileURLToPath(import.meta.url));
const NODES = Number(process.env.SCALE_NODES ?? 1000);
const PROCS = Number(process.env.SCALE_PROCS ?? 4);
const NICS = Number(process.env.SCALE_NICS ?? 10_000);
const STEADY_S = Number(process.env.SCALE_STEADY_S ?? 20);
/** the baseline's host count: its start-up is quadratic, so a smaller one past 200 hosts (printed with its figures) */
const BASELINE_NODES = Number(process.env.SCALE_BASELINE_NODES ?? (NODES <= 200 ? NODES : 100));
/** each design's agents get this long to start; figures are measured on those that did */
const START_S = Number(process.env.SCALE_START_S ?? 1200);
/** new nodes registered one after another (the figure is the first's; the rest measure CPU per agent per new node) */
const ROUTE_REPEAT = Number(process.env.SCALE_ROUTE_REPEAT ?? 1);
/**
 * The hollow processes' nice value. Each hollow agent stands for a host with CPUs of its own,
 * as kubemark runs its hollow nodes on other machines than the control plane; here they share
 * two cores with etcd and the controllers, and at nice 19 they get the CPU the control plane
 * leaves (SCALE_HOLLOW_NICE=0: all at the same priority, the figures then include the agents' share).
 */
const HOLLOW_NICE = Number(process.env.SCALE_HOLLOW_NICE ?? 19);
const PREFIX = '/xnet';

interface Env { nodes: number; etcd: EtcdServer; dir: string; client: Etcd3; controllers: ChildProcess[]; hollows: ChildProcess[] }

async function startEnv(mode: string, nodes: number): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), `xnet-bench-scale-${mode}-`));
  const etcd = await startEtcdServer({ dataDir: join(dir, 'etcd') });
  const client = new Etcd3({ hosts: etcd.endpoints, defaultCallOptions: callDeadlines(), grpcOptions: etcdChannelOptions() });
  const store = createEtcdStore(client, PREFIX);
  await store.applyAll([
    obj('ClusterNetwork', 'default', { cidr: '10.64.0.0/12', hostPrefix: 24 }),
    ...Array.from({ length: nodes }, (_, i) => obj('Node', nodeName(i), { address: underlayAddress(i) })),
  ]);
  const controllers = spawnControllers(etcd);
  while ((await countKeys(client, `${PREFIX}/ipam/clusternetworks/default/blocks/`)) < nodes) await sleep(200);
  const env = { nodes, etcd, dir, client, controllers, hollows: [] };
  live.push(env);
  return env;
}

function spawnControllers(etcd: EtcdServer): ChildProcess[] {
  const nodeArgs = (process.env.SCALE_CONTROLLER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return ['c1', 'c2'].map((id) => spawn(process.execPath, [...nodeArgs, join(here, '../cmd/xnet-controller.js'),
    '--endpoints', etcd.endpoints.join(','), '--prefix', PREFIX, '--id', id], { stdio: 'ignore', env: { ...process.env, XNET_LOG_LEVEL: 'error' } }));
}

function once<T>(child: ChildProcess, ev: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: { ev: string }) => { if (m.ev === ev) { child.off('message', on); resolve(m as T); } };
    child.on('message', on);
    child.once('exit', (code) => reject(new Error(`hollow process exited (${code}) before "${ev}"`)));
  });
}

/**
 * Forks the hollow processes and waits until each has its agents through their first pass or
 * START_S has passed (then it reports how many did); prints progress every 30 s.
 */
async function startHollows(env: Env, mode: HollowConfig['mode']): Promise<{ started: number; startS: number }> {
  const per = Math.ceil(env.nodes / PROCS);
  const t0 = Date.now();
  const startDeadline = t0 + START_S * 1000;
  const progress: number[] = [];
  for (let p = 0; p * per < env.nodes; p++) {
    const cfg: HollowConfig = { mode, endpoints: env.etcd.endpoints, prefix: PREFIX, first: p * per, count: Math.min(per, env.nodes - p * per), startDeadline };
    const child = fork(join(here, 'scale/hollow.js'), [], {
      execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, SCALE_HOLLOW: JSON.stringify(cfg), XNET_LOG_LEVEL: 'error' },
    });
    progress.push(0);
    child.on('message', (m: { ev: string; started?: number }) => { if (m.ev === 'progress') progress[p] = m.started!; });
    if (HOLLOW_NICE) setPriority(child.pid!, HOLLOW_NICE);
    env.hollows.push(child);
  }
  const tick = setInterval(() => console.log(`${mode}: ${progress.reduce((a, b) => a + b, 0)} of ${env.nodes} agents through their first pass after ${((Date.now() - t0) / 1000).toFixed(0)} s`), 30_000);
  try {
    // the children stop waiting at the deadline; a minute more for them to say so
    const ready = await Promise.all(env.hollows.map((h) => within(once<{ agents: number }>(h, 'ready'), startDeadline - Date.now() + 60_000, 'hollow start-up')));
    return { started: ready.reduce((a, r) => a + r.agents, 0), startS: (Date.now() - t0) / 1000 };
  } finally {
    clearInterval(tick);
  }
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { t = setTimeout(() => reject(new Error(`${what}: no answer within ${(ms / 1000).toFixed(0)} s`)), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(t));
}

/** etcd's outgoing events and bytes per second over STEADY_S, after the start-up settled. */
async function steadyState(env: Env): Promise<Pick<Figures, 'eventsPerS' | 'bytesPerS'>> {
  await sleep(5000);
  const a = await etcdCounters(env.etcd.endpoints[0]);
  const t0 = performance.now();
  await sleep(STEADY_S * 1000);
  const b = await etcdCounters(env.etcd.endpoints[0]);
  const s = (performance.now() - t0) / 1000;
  return { eventsPerS: (b.events - a.events) / s, bytesPerS: (b.bytes - a.bytes) / s };
}

async function heapPerAgent(env: Env): Promise<number> {
  const all = await Promise.all(env.hollows.map((h) => { const r = once<{ perAgent: number }>(h, 'heap'); h.send({ cmd: 'heap' }); return r; }));
  return all.reduce((s, r) => s + r.perAgent, 0) / all.length;
}

/**
 * A new node registers (its Node object); how long until every started hollow agent has its
 * route in place, and where that time went (route-trace.ts), printed as it is measured.
 */
async function newNodeRoute(env: Env, mode: string, k = 0): Promise<{ ms: number; traces: ProcessTrace[] }> {
  const node = nodeName(env.nodes + k);
  const via = underlayAddress(env.nodes + k);
  const timeoutMs = 120_000;
  const watch = await watchNewNode(env.client, PREFIX, node, `default-${node}`);
  const tracing = env.hollows.map((h) => once(h, 'tracing'));
  const traced = env.hollows.map((h) => { const r = once<{ trace: ProcessTrace }>(h, 'routed'); h.send({ cmd: 'route', node, via, timeoutMs }); return r; });
  await within(Promise.all(tracing), 60_000, 'hollow processes setting up the trace');
  await sleep(200);
  const t0 = Date.now();
  await createEtcdStore(env.client, PREFIX).create(obj('Node', node, { address: via }));
  watch.marks.written = Date.now();
  const traces = (await within(Promise.all(traced), timeoutMs + 30_000, 'new node route')).map((r) => r.trace);
  await watch.close();
  console.log([`${mode}: a new node's route, from the Node's write:`, ...formatTrace(t0, watch.marks, traces)].join('\n'));
  const routed = traces.flatMap((t) => t.agents.map((a) => a.routed));
  return { ms: routed.every((r) => r !== undefined) ? Math.max(...(routed as number[])) - t0 : Infinity, traces };
}

/** The hollow processes' CPU over `ms` with nothing happening: what each route window pays for periodic work. */
async function idleCpuPerAgentS(env: Env, ms: number): Promise<number> {
  const all = await Promise.all(env.hollows.map((h) => { const r = once<{ cpuS: number; wallS: number }>(h, 'idle'); h.send({ cmd: 'idle', ms }); return r; }));
  return all.reduce((s, r) => s + r.cpuS / r.wallS, 0);
}

/**
 * ROUTE_REPEAT new nodes one after another; the figure is the first's. Prints the agents' CPU
 * per agent per new node, less what the same processes spend idle over the same wall time: a
 * figure that compares across machine loads, where the route's wall time does not.
 */
async function newNodeRoutes(env: Env, mode: string, agents: number): Promise<number> {
  const idlePerS = await idleCpuPerAgentS(env, 5000);
  const figures: number[] = [];
  const cpuMs: string[] = [];
  for (let k = 0; k < ROUTE_REPEAT; k++) {
    const r = await newNodeRoute(env, mode, k);
    figures.push(r.ms);
    const cpuS = r.traces.reduce((s, t) => s + t.cpuS, 0);
    const wallS = Math.max(...r.traces.map((t) => t.wallS));
    cpuMs.push(`${((cpuS * 1000) / agents).toFixed(2)} (${(((cpuS - idlePerS * wallS) * 1000) / agents).toFixed(2)} less idle)`);
    await sleep(1000);
  }
  console.log(`${mode}: new nodes' routes in ${figures.map((f) => `${(f / 1000).toFixed(2)} s`).join(', ')}; hollow CPU per agent per new node, ms: ${cpuMs.join(', ')}; idle ${((idlePerS * 1000) / agents).toFixed(3)} ms per agent per s`);
  return figures[0];
}

const nicObjects = (nodes: number, network = 'default') => Array.from({ length: NICS }, (_, i) => obj('ContainerNic', `${network}-nic-${i}`, {
  node: nodeName(i % nodes), container: `c${i}`, ifName: network === 'default' ? 'eth1' : 'eth2', network: { clusterNetwork: network },
}));
const addressesOf = (network: string) => `${PREFIX}/ipam/clusternetworks/${network}/addresses/`;

/** xnet: the NICs applied while every agent and both controllers run; until all have addresses. */
async function allocateXnet(env: Env): Promise<Pick<Figures, 'nicS' | 'applyS'>> {
  await hollowProfiles(env, true);
  const cpu = phaseCpu(env);
  const t0 = performance.now();
  const progress: string[] = [];
  const sample = async (): Promise<number> => {
    const n = await countKeys(env.client, addressesOf('default'));
    progress.push(`${((performance.now() - t0) / 1000).toFixed(1)} s ${n}`);
    return n;
  };
  let applied = false;
  const sampler = (async () => { while (!applied) { await sample(); await sleep(250); } })();
  await createEtcdStore(env.client, PREFIX).applyAll(nicObjects(env.nodes));
  const applyS = (performance.now() - t0) / 1000;
  applied = true;
  await sampler;
  const atApply = await sample();
  while ((await countKeys(env.client, addressesOf('default'))) < NICS) await sleep(100);
  const nicS = (performance.now() - t0) / 1000;
  console.log(`xnet: the NICs' ${cpu()}`);
  console.log(`xnet: ${atApply} of ${NICS} NICs had addresses when the apply returned; addresses over time: ${progress.join(', ')}`);
  await hollowProfiles(env, false);
  return { nicS, applyS };
}

/**
 * When a controller next takes the election key (performance.now()): it campaigns once its
 * cache is loaded, and its term starts right after. Read off etcd, not the controller's log.
 */
async function nextLeader(client: Etcd3): Promise<{ at: Promise<number>; close(): Promise<void> }> {
  const w = await client.watch().key(new Keys(PREFIX).election()).create();
  const at = new Promise<number>((resolve, reject) => {
    w.once('put', () => resolve(performance.now()));
    w.once('error', reject);
  });
  at.catch(() => undefined); // read only once the addresses are there; a failure then is thrown there
  return { at, close: () => w.cancel() };
}

/**
 * xnet the way the baseline allocates: the controllers stopped, as many NICs again applied (on a
 * second ClusterNetwork: the first's addresses per node are taken), then both controllers
 * started; the time from their start until every NIC has an address (the agents run throughout),
 * and until one of them leads.
 */
async function allocateBacklog(env: Env): Promise<Pick<Figures, 'backlogS' | 'backlogLeadS'>> {
  const store = createEtcdStore(env.client, PREFIX);
  await store.applyAll([obj('ClusterNetwork', 'backlog', { cidr: '10.80.0.0/12', hostPrefix: 24 })]);
  while ((await countKeys(env.client, `${PREFIX}/ipam/clusternetworks/backlog/blocks/`)) < env.nodes) await sleep(200);
  await stopChildren(env.controllers, false);
  await store.applyAll(nicObjects(env.nodes, 'backlog'));
  await sleep(2000); // the agents' first look at the NICs (no address yet) is not the controllers' time
  const leader = await nextLeader(env.client);
  try {
    const t0 = performance.now();
    env.controllers = spawnControllers(env.etcd);
    const cpu = phaseCpu(env);
    // the same, from the term start: what the allocation itself cost each process
    const allocationCpu = leader.at.then(() => phaseCpu(env));
    while ((await countKeys(env.client, addressesOf('backlog'))) < NICS) await sleep(50);
    const backlogS = (performance.now() - t0) / 1000;
    const backlogLeadS = (await leader.at - t0) / 1000;
    console.log(`xnet: ${NICS} stored NICs' addresses, from the controllers' start: ${backlogS.toFixed(2)} s (a leader after ${backlogLeadS.toFixed(2)} s); ${cpu()}`);
    console.log(`xnet: the stored NICs' allocation, from the term start: ${(await allocationCpu)()}`);
    return { backlogS, backlogLeadS };
  } finally {
    await leader.close();
  }
}

/** SCALE_NIC_PROFILE=<dir>: each hollow process's CPU profile over the NICs' phase, <dir>/nics-<pid>.cpuprofile */
async function hollowProfiles(env: Env, on: boolean): Promise<void> {
  const dir = process.env.SCALE_NIC_PROFILE;
  if (!dir) return;
  await Promise.all(env.hollows.map((h) => {
    const r = once(h, on ? 'profiling' : 'profiled');
    h.send({ cmd: 'profile', file: on ? `${dir}/nics-${h.pid}.cpuprofile` : undefined });
    return r;
  }));
}

/** which process spent the CPU of a phase: on 2 cores the sum bounds the wall time */
const phaseCpu = (env: Env) => cpuMeter({
  etcd: [env.etcd.pid],
  ...Object.fromEntries(env.controllers.map((c, i) => [`controller c${i + 1}`, [c.pid]])),
  [`${env.hollows.length} hollow processes`]: env.hollows.map((h) => h.pid),
});

/**
 * The baseline: the same apply with the agents and controllers stopped (with five
 * whole-registry watches per agent, each of its writes would reach every agent five times and
 * time this machine's CPUs, not the allocator), then one create-if-absent transaction per address.
 */
async function allocateBaseline(env: Env): Promise<Pick<Figures, 'nicS' | 'applyS'>> {
  await stopChildren(env.hollows, true);
  await stopChildren(env.controllers, false);
  const cpu = phaseCpu(env);
  const t0 = performance.now();
  await createEtcdStore(env.client, PREFIX).applyAll(nicObjects(env.nodes));
  const applyS = (performance.now() - t0) / 1000;
  const nicS = applyS + await baselineAllocate(env.client, PREFIX, NICS);
  console.log(`baseline: the NICs' ${cpu()}`);
  return { nicS, applyS };
}

async function stopChildren(children: ChildProcess[], graceful: boolean): Promise<void> {
  await Promise.all(children.map(async (c) => {
    if (c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    if (graceful) c.send({ cmd: 'stop' }); else c.kill('SIGTERM');
    await Promise.race([exited, sleep(20_000)]);
    if (c.exitCode === null) c.kill('SIGKILL');
  }));
}

async function stopEnv(env: Env): Promise<void> {
  await stopChildren(env.hollows, true);
  await stopChildren(env.controllers, false);
  env.client.close();
  await env.etcd.stop();
  rmSync(env.dir, { recursive: true, force: true });
}

async function measure(mode: HollowConfig['mode'], nodes: number): Promise<Figures> {
  const env = await startEnv(mode, nodes);
  try {
    const start = await startHollows(env, mode);
    console.log(`${mode}: ${start.started} of ${nodes} agents through their first pass in ${start.startS.toFixed(1)} s`);
    const steady = await steadyState(env);
    const heap = await heapPerAgent(env);
    const routeMs = await newNodeRoutes(env, mode, start.started);
    const nics = NICS === 0 ? { nicS: NaN, applyS: NaN } : mode === 'xnet' ? await allocateXnet(env) : await allocateBaseline(env);
    const backlog = NICS > 0 && mode === 'xnet' ? await allocateBacklog(env) : { backlogS: NaN, backlogLeadS: NaN };
    return { nodes, ...start, ...steady, heapPerAgent: heap, routeMs, ...nics, ...backlog };
  } finally {
    await stopEnv(env);
  }
}

// Each node's xnet half of a /24 holds 126 addresses.
for (const n of [NODES, BASELINE_NODES]) if (NICS > n * 100) throw new Error(`SCALE_NICS=${NICS} over ${n} nodes: at most 100 per node`);
const live: Env[] = [];
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => { for (const e of live) for (const c of [...e.hollows, ...e.controllers]) c.kill('SIGKILL'); void Promise.all(live.map((e) => e.etcd.stop())).finally(() => process.exit(130)); });
}
console.log(`bench/scale: ${NODES} hollow hosts (baseline: ${BASELINE_NODES}) in ${PROCS} processes, 2 controllers, one stock etcd; ${NICS} NICs; steady state over ${STEADY_S} s; start-up deadline ${START_S} s; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const MODES = (process.env.SCALE_MODES ?? 'xnet,baseline').split(',');
const xnet = MODES.includes('xnet') ? await measure('xnet', NODES) : undefined;
console.log(`xnet: ${JSON.stringify(xnet)}`);
const baseline = MODES.includes('baseline') ? await measure('baseline', BASELINE_NODES) : undefined;
console.log(`baseline: ${JSON.stringify(baseline)}`);
if (xnet && baseline) console.log(formatReport({ nodes: NODES, nics: NICS, xnet, baseline }));
console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
