// Where a new node's route spends its time (bench/scale.ts): the path is
//   Node written -> the controller commits the HostSubnet (object, status, block claim in one
//   transaction) -> each agent's view receives it -> the agent's routes reconcile starts (it
//   reads the routes) -> the dataplane sees the `route replace`.
// The parent watches etcd for the first two marks; each hollow process records the last three
// per agent, with its event-loop delay and CPU time over the window (a process busy decoding
// shows up there, not in the agent).
import type { Etcd3 } from 'etcd3';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import type { HostSubnet } from '../../pkg/api/index.js';
import type { Agent } from '../../pkg/agent/agent.js';
import type { HollowDataplane } from './hollow-dataplane.js';

/** One agent's marks (ms since the epoch). */
export interface AgentMarks { node?: number; received?: number; reconcile?: number; routed?: number; /** routes passes in the window */ passes: number }

/** What one hollow process reports once all its agents routed (or it gave up). */
export interface ProcessTrace {
  agents: AgentMarks[];
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  /** CPU seconds the process used over the window, and the window's length */
  cpuS: number;
  wallS: number;
}

/**
 * Marks each agent's path to a route via a new node's address. Its handlers are added once per
 * process (an informer's handlers stay for good, and adding one replays every cached object:
 * the bench's own cost, kept out of every window); each trace() follows one new node.
 */
export class RouteTracer {
  private target?: { node: string; via: string; marks: AgentMarks[]; left: number; done: () => void };

  constructor(private readonly hollows: Array<{ agent: Agent; dp: HollowDataplane }>) {
    hollows.forEach((h, i) => {
      const mark = () => this.target && this.target.marks[i];
      const seen = (hs: HostSubnet) => {
        const m = mark();
        if (m && m.received === undefined && hs.spec.node === this.target!.node && (hs.status as { subnet?: string } | undefined)?.subnet) m.received = Date.now();
      };
      h.agent.ctx.caches.hostSubnets.addHandler({ onAdd: seen, onUpdate: seen });
      h.agent.ctx.caches.nodes.addHandler({ onAdd: (n) => { const m = mark(); if (m && n.metadata.name === this.target!.node && m.node === undefined) m.node = Date.now(); } });
      h.dp.onRoutesRead = () => { const m = mark(); if (!m) return; if (m.routed === undefined) m.passes++; if (m.received !== undefined && m.reconcile === undefined) m.reconcile = Date.now(); };
      h.dp.onRoute = (r) => {
        const m = mark();
        if (!m || m.routed !== undefined || r.via !== this.target!.via) return;
        m.routed = Date.now();
        if (--this.target!.left === 0) this.target!.done();
      };
    });
  }

  /** Resolves when every agent has the route via `via` for `node`'s HostSubnet in place, or after `timeoutMs` with what was marked. */
  trace(node: string, via: string, timeoutMs: number): Promise<ProcessTrace> {
    const marks = this.hollows.map((): AgentMarks => ({ passes: 0 }));
    const loop = monitorEventLoopDelay({ resolution: 10 });
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.target = undefined;
        loop.disable();
        const cpu = process.cpuUsage(cpu0);
        resolve({
          agents: marks, loopDelayMaxMs: loop.max / 1e6, loopDelayP99Ms: loop.percentile(99) / 1e6,
          cpuS: (cpu.user + cpu.system) / 1e6, wallS: (performance.now() - t0) / 1000,
        });
      };
      const timer = setTimeout(finish, timeoutMs);
      this.target = { node, via, marks, left: this.hollows.length, done: finish };
      loop.enable();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      if (this.hollows.length === 0) finish();
    });
  }
}

/** This process's CPU seconds over `ms` of wall time (no new node: the agents' idle cost). */
export async function idleCpu(ms: number): Promise<{ cpuS: number; wallS: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const cpu = process.cpuUsage(cpu0);
  return { cpuS: (cpu.user + cpu.system) / 1e6, wallS: (performance.now() - t0) / 1000 };
}

/**
 * SCALE_ROUTE_PROFILE=<dir>: a CPU profile of this process over the route window, written to
 * <dir>/route-<pid>-<node>.cpuprofile (open it in Chrome's DevTools); what found the per-agent costs.
 */
export async function profileWindow<T>(node: string, run: () => Promise<T>): Promise<T> {
  const dir = process.env.SCALE_ROUTE_PROFILE;
  if (!dir) return run();
  const stop = await startProfile(`${dir}/route-${process.pid}-${node}.cpuprofile`);
  try { return await run(); } finally { await stop(); }
}

/** Starts sampling this process's CPU; the function returned stops and writes the profile to `file`. */
export async function startProfile(file: string): Promise<() => Promise<void>> {
  const s = new Session();
  s.connect();
  await s.post('Profiler.enable');
  await s.post('Profiler.setSamplingInterval', { interval: 200 });
  await s.post('Profiler.start');
  return async () => {
    const { profile } = await s.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    s.disconnect();
  };
}

/** First time each of the new node's keys was written, as seen by a watch of the parent's. */
export async function watchNewNode(client: Etcd3, prefix: string, node: string, hostSubnet: string): Promise<{ marks: Record<string, number>; close(): Promise<void> }> {
  const marks: Record<string, number> = {};
  const names: Record<string, string> = {
    [`${prefix}/registry/objects/nodes/${node}`]: 'node',
    [`${prefix}/registry/objects/hostsubnets/${hostSubnet}`]: 'hostSubnet',
    [`${prefix}/registry/status/controller/hostsubnets/${hostSubnet}`]: 'hostSubnetStatus',
  };
  const w = await client.watch().prefix(`${prefix}/registry/`).create();
  w.on('put', (kv) => {
    const name = names[kv.key.toString()];
    if (name && marks[name] === undefined) marks[name] = Date.now();
  });
  return { marks, close: () => w.cancel() };
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))];

/** "median 120 ms, p90 300 ms, max 900 ms" of the marks' offsets from t0. */
function spread(xs: Array<number | undefined>, t0: number): string {
  const v = xs.filter((x): x is number => x !== undefined).map((x) => x - t0).sort((a, b) => a - b);
  if (!v.length) return 'none';
  return `median ${pct(v, 0.5)} ms, p90 ${pct(v, 0.9)} ms, max ${v[v.length - 1]} ms (${v.length} agents)`;
}

/** The trace as lines: every mark from the moment the Node was written. */
export function formatTrace(t0: number, parent: Record<string, number>, procs: ProcessTrace[]): string[] {
  const agents = procs.flatMap((p) => p.agents);
  const at = (k: string) => (parent[k] === undefined ? 'not seen' : `${parent[k] - t0} ms`);
  // the parent's own watch: its marks can only be late (its event loop), never early
  const gap = (from: 'received' | 'reconcile', to: 'reconcile' | 'routed') => spread(agents.map((a) => (a[from] !== undefined && a[to] !== undefined ? a[to]! - a[from]! : undefined)), 0);
  return [
    `  the Node's write returned ${at('written')}; the parent's watch saw the Node ${at('node')}, the controller's HostSubnet object ${at('hostSubnet')}, its status ${at('hostSubnetStatus')}`,
    `  views received the Node:                ${spread(agents.map((a) => a.node), t0)}`,
    `  views received the allocated HostSubnet: ${spread(agents.map((a) => a.received), t0)}`,
    `  routes reconcile started:               ${spread(agents.map((a) => a.reconcile), t0)}`,
    `  route replace seen by the dataplane:    ${spread(agents.map((a) => a.routed), t0)}`,
    `  routes passes per agent until its route was in place: ${spread(agents.map((a) => a.passes), 0).replace(/ ms/g, '')}`,
    `  per agent, received -> reconcile: ${gap('received', 'reconcile')}; reconcile -> route: ${gap('reconcile', 'routed')}`,
    ...procs.map((p, i) => `  hollow process ${i}: event-loop delay max ${p.loopDelayMaxMs.toFixed(0)} ms (p99 ${p.loopDelayP99Ms.toFixed(0)} ms), CPU ${p.cpuS.toFixed(2)} s over ${p.wallS.toFixed(2)} s`),
  ];
}
