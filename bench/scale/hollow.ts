// One child process of bench/scale.ts: runs a slice of the hollow nodes, each a real Agent
// (store, informers, planners, work queue, reconcilers) with its own etcd client, on a
// HollowDataplane. Talks to the parent over IPC:
//   parent -> { cmd: 'heap' } | { cmd: 'idle', ms } | { cmd: 'route', node, via, timeoutMs } | { cmd: 'profile', file? } | { cmd: 'stop' }
//   child  -> { ev: 'progress', started } | { ev: 'ready', agents, of, startS } | { ev: 'heap', perAgent } | { ev: 'idle', cpuS, wallS }
//             | { ev: 'tracing' } | { ev: 'routed', trace } | { ev: 'profiling' } | { ev: 'profiled' } | { ev: 'stopped' }
// Agents start ten at a time; those not through their first pass by cfg.startDeadline are
// left out of the figures (and counted in 'ready'), so a start-up that cannot finish here
// (the baseline at hundreds of hosts) ends with what it reached instead of hanging.
//
// mode xnet: the product as it is (each agent watches what concerns its node).
// mode baseline: the design before issue 10, rebuilt around the same agent code: every
// informer watches the whole registry (one cache per kind, as Store.watch still does), and each
// agent rewrites its Node status every 5 s.
import { Etcd3 } from 'etcd3';
import { Agent } from '../../pkg/agent/agent.js';
import { callDeadlines, etcdChannelOptions } from '../../pkg/etcd/client.js';
import { EtcdStore } from '../../pkg/store/etcd-store.js';
import type { NodeWatch } from '../../pkg/store/types.js';
import { quietLog, sleep } from '../lib/common.js';
import { HollowDataplane } from './hollow-dataplane.js';
import { idleCpu, profileWindow, RouteTracer, startProfile } from './route-trace.js';
import { nodeName, underlayAddress, type HollowConfig } from './config.js';

/** the baseline's periodic status rewrite */
const BASELINE_REWRITE_MS = 5000;

/** The old wiring: each informer lists its kind and watches the whole registry on its own. */
class RegistryWideStore extends EtcdStore {
  override nodeView(): NodeWatch {
    return { start: async () => undefined, close: async () => undefined, list: (k) => this.list(k), watch: (k, r, h) => this.watch(k, r, h) };
  }
}

interface Hollow { agent: Agent; dp: HollowDataplane; client: Etcd3; timer?: NodeJS.Timeout }

async function startHollow(cfg: HollowConfig, i: number): Promise<Hollow> {
  const client = new Etcd3({ hosts: cfg.endpoints, defaultCallOptions: callDeadlines(), grpcOptions: etcdChannelOptions() });
  const node = nodeName(i);
  const log = quietLog('agent', { node });
  const store = cfg.mode === 'xnet' ? new EtcdStore(client, cfg.prefix, log) : new RegistryWideStore(client, cfg.prefix, log);
  const dp = new HollowDataplane(underlayAddress(i));
  // The baseline's status rewrite is its own timer, whatever the agent's heartbeat does.
  const heartbeatMs = cfg.mode === 'baseline' ? 3_600_000 : undefined;
  const agent = new Agent({ node, store, dataplane: dp, events: { kernel: false }, log, heartbeatMs });
  const h: Hollow = { agent, dp, client };
  await agent.start();
  if (cfg.mode === 'baseline') {
    h.timer = setInterval(() => {
      void store.writeStatus('Node', node, { node }, { address: dp.address, interface: 'eth0', lastHeartbeatTime: new Date().toISOString() }).catch(() => undefined);
    }, BASELINE_REWRITE_MS);
  }
  return h;
}

/**
 * Starts this process's agents ten at a time (a thousand agents listing at once is a
 * thundering herd, not a measurement) until all are through their first pass or the deadline
 * passes; returns those through it. `all` gets every agent started, for stopAll.
 */
async function startAll(cfg: HollowConfig, all: Hollow[]): Promise<Hollow[]> {
  const ready: Hollow[] = [];
  const left = () => cfg.startDeadline - Date.now();
  for (let i = cfg.first; i < cfg.first + cfg.count && left() > 0; i += 10) {
    const slice = Array.from({ length: Math.min(10, cfg.first + cfg.count - i) }, (_, k) => i + k);
    const started = slice.map(async (n) => {
      const h = await startHollow(cfg, n);
      all.push(h);
      await h.agent.firstPass;
      ready.push(h);
    });
    const deadline = sleep(Math.max(0, left())).then(() => 'late' as const);
    if ((await Promise.race([Promise.all(started), deadline])) === 'late') break;
    process.send!({ ev: 'progress', started: ready.length });
  }
  return ready;
}

function heapPerAgent(before: number, agents: number): number {
  (globalThis as { gc?: () => void }).gc?.();
  return (process.memoryUsage().heapUsed - before) / Math.max(1, agents);
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.SCALE_HOLLOW ?? '{}') as HollowConfig;
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage().heapUsed;
  const all: Hollow[] = [];
  let tracer: RouteTracer | undefined;
  let stopProfile: (() => Promise<void>) | undefined;
  process.on('message', (m: { cmd: string; node?: string; via?: string; timeoutMs?: number; ms?: number; file?: string }) => {
    if (m.cmd === 'heap') process.send!({ ev: 'heap', perAgent: heapPerAgent(before, hollows.length) });
    else if (m.cmd === 'idle') void profileWindow('idle', () => idleCpu(m.ms!)).then((cpu) => process.send!({ ev: 'idle', ...cpu }));
    else if (m.cmd === 'route') {
      tracer ??= new RouteTracer(hollows);
      // 'tracing' once every agent's marks are set up: the parent writes the Node only then
      const traced = () => { const t = tracer!.trace(m.node!, m.via!, m.timeoutMs!); process.send!({ ev: 'tracing' }); return t; };
      void profileWindow(m.node!, traced).then((trace) => process.send!({ ev: 'routed', trace }));
    } else if (m.cmd === 'profile') {
      // SCALE_NIC_PROFILE: the parent brackets the NICs' phase with these
      if (m.file) void startProfile(m.file).then((stop) => { stopProfile = stop; process.send!({ ev: 'profiling' }); });
      else void stopProfile?.().then(() => process.send!({ ev: 'profiled' }));
    } else if (m.cmd === 'stop') void stopAll(all).then(() => process.send!({ ev: 'stopped' }, () => process.exit(0)));
  });
  const t0 = performance.now();
  const hollows = await startAll(cfg, all);
  process.send!({ ev: 'ready', agents: hollows.length, of: cfg.count, startS: (performance.now() - t0) / 1000 });
}

async function stopAll(hollows: Hollow[]): Promise<void> {
  await Promise.all(hollows.map(async (h) => {
    clearInterval(h.timer);
    await h.agent.stop();
    h.client.close();
  }));
  await sleep(10);
}

await main();
