// bench/scale.ts's measuring instruments and its report: etcd's own counters of what it sent,
// the baseline allocator (one create-if-absent transaction per address), and the table with
// the ratios against issue 10's targets.
import type { Etcd3 } from 'etcd3';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';

export interface Figures {
  /** hosts this design ran with, and how many of their agents got through their first pass (start-up deadline) */
  nodes: number;
  started: number;
  startS: number;
  /** watch events etcd sent to all watchers, per second at steady state */
  eventsPerS: number;
  /** bytes etcd sent to all its gRPC clients, per second at steady state */
  bytesPerS: number;
  heapPerAgent: number;
  /** from the new node's registration until every agent has its route in place */
  routeMs: number;
  /** from the start of the NICs' apply until every NIC has an address (NaN: SCALE_NICS=0) */
  nicS: number;
  /** how long the apply itself took */
  applyS: number;
  /**
   * NICs stored while no allocator ran, from the allocator's start until each has an address:
   * xnet's two controllers started (bench/scale.ts allocateBacklog), the baseline's loop
   */
  backlogS: number;
  /**
   * Of backlogS, the controllers' start-up: from their spawn until one of them took the
   * election key (its term starts on a loaded cache right after). The rest is the allocation.
   */
  backlogLeadS: number;
}

/**
 * etcd's counters: events sent to watchers (etcd_debugging_mvcc_events_total, counted per
 * watcher that receives them) and bytes sent to gRPC clients.
 */
export async function etcdCounters(endpoint: string): Promise<{ events: number; bytes: number }> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const value = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    if (!line) throw new Error(`etcd exports no ${name}`);
    return Number(line.split(' ')[1]);
  };
  return { events: value('etcd_debugging_mvcc_events_total'), bytes: value('etcd_network_client_grpc_sent_bytes_total') };
}

/**
 * The baseline allocator: for each NIC in turn, one transaction that creates its address claim
 * if absent and writes its status. Returns the seconds it took.
 */
export async function baselineAllocate(client: Etcd3, prefix: string, nics: number): Promise<number> {
  const first = parseIPv4('10.64.0.2');
  const t0 = performance.now();
  for (let i = 0; i < nics; i++) {
    const ip = formatIPv4(first + i);
    const claimKey = Buffer.from(`${prefix}/ipam/clusternetworks/default/addresses/${String(first + i).padStart(10, '0')}`);
    const claim = { owner: { kind: 'ContainerNic', name: `nic-${i}`, uid: `u${i}` }, role: 'nic', ip };
    const statusKey = Buffer.from(`${prefix}/registry/status/controller/containernics/nic-${i}`);
    const r = await client.kv.txn({
      compare: [{ key: claimKey, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: claimKey, value: Buffer.from(JSON.stringify(claim)) } }, { request_put: { key: statusKey, value: Buffer.from(JSON.stringify({ ip, prefixLength: 12 })) } }],
      failure: [],
    });
    if (!r.succeeded) throw new Error(`baseline: the claim of ${ip} existed`);
  }
  return (performance.now() - t0) / 1000;
}

const HEARTBEAT_S = 5;
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'never');
const mib = (n: number) => `${fmt(n / 1024 / 1024, 2)} MiB`;
const ratio = (base: number, x: number) => (!Number.isFinite(x) ? '-' : x > 0 ? `${fmt(base / x, 1)}x` : 'inf');

/** The NIC rows (alloc2's figures): none when the run allocated no NICs. */
function nicRows(nics: number, x: Figures, b: Figures): string[][] {
  if (!Number.isFinite(x.nicS) || !Number.isFinite(b.nicS)) return [];
  // What the allocator adds once the apply has returned: the baseline allocates after it; xnet
  // allocates while it runs and finishes what is left after it.
  const bAlloc = b.nicS - b.applyS;
  // The target on both ways xnet allocates, each judged on its own.
  const verdict = (xs: number) => (Number.isFinite(xs) ? `>= 10x faster: ${bAlloc / xs >= 10 ? 'met' : 'missed'}` : '-');
  return [...liveRows(nics, x, b, bAlloc, verdict), ...storedRows(nics, x, bAlloc, verdict)];
}

/** NICs applied while everything runs: end to end, the apply, and what the allocator needed after it. */
function liveRows(nics: number, x: Figures, b: Figures, bAlloc: number, verdict: (xs: number) => string): string[][] {
  const xAlloc = x.nicS - x.applyS;
  return [
    [`${fmt(nics)} NICs applied while all runs, all with addresses`, `${fmt(b.nicS, 2)} s`, `${fmt(x.nicS, 2)} s`, ratio(b.nicS, x.nicS), '-'],
    ['  of which the apply', `${fmt(b.applyS, 2)} s`, `${fmt(x.applyS, 2)} s`, ratio(b.applyS, x.applyS), '-'],
    ['  of which addresses after the apply returned', `${fmt(bAlloc, 2)} s`, `${fmt(xAlloc, 2)} s`, ratio(bAlloc, xAlloc), verdict(xAlloc)],
  ];
}

/**
 * Stored NICs: the baseline's loop against xnet's controllers started on them. A controller
 * starts by loading its modules and listing the store, which the loop does not do; the
 * target is judged on the allocation, from the leader's term start, and the start-up is shown
 * apart (the whole from the spawn on the first row).
 */
function storedRows(nics: number, x: Figures, bAlloc: number, verdict: (xs: number) => string): string[][] {
  const title = `${fmt(nics)} stored NICs given addresses, from the controllers' start`;
  if (!Number.isFinite(x.backlogS)) return [[title, `${fmt(bAlloc, 2)} s`, 'not run', '-', '-']];
  const allocS = x.backlogS - x.backlogLeadS;
  return [
    [title, `${fmt(bAlloc, 2)} s`, `${fmt(x.backlogS, 2)} s`, ratio(bAlloc, x.backlogS), '-'],
    ['  of which the controllers\' start-up (modules, list, election)', '-', `${fmt(x.backlogLeadS, 2)} s`, '-', '-'],
    ['  of which the allocation, from the leader\'s term start', `${fmt(bAlloc, 2)} s`, `${fmt(allocS, 2)} s`, ratio(bAlloc, allocS), verdict(allocS)],
  ];
}

/**
 * The baseline's steady-state events at xnet's host count when it ran with fewer: each of H
 * hosts rewrites its status once per interval and every one of the H agents' five
 * whole-registry watches receives it, 5 x H x H events. Computed, never measured.
 */
export function baselineEventsComputed(hosts: number): number {
  return 5 * hosts * hosts;
}

export function formatReport(r: { nodes: number; nics: number; xnet: Figures; baseline: Figures }): string {
  const { xnet: x, baseline: b } = r;
  const evRatio = x.eventsPerS > 0 ? b.eventsPerS / x.eventsPerS : Infinity;
  // Heap and route grow with the hosts: a ratio only between runs at the same count. Events
  // and bytes are compared anyway: the baseline's grow faster than xnet's, so a baseline at
  // fewer hosts only understates the ratio.
  const same = b.started === x.started;
  const hosts = (f: Figures) => (f.started < f.nodes ? `${fmt(f.started)} of ${fmt(f.nodes)} hosts` : `${fmt(f.nodes)} hosts`);
  const rows = [
    ['figure', `baseline (${hosts(b)})`, `xnet (${hosts(x)})`, 'ratio', `target (issue 10, at 1,000 hosts)`],
    ['agents through their first pass, seconds', `${fmt(b.startS, 1)} s`, `${fmt(x.startS, 1)} s`, '-', '-'],
    ['etcd watch events sent per 5 s heartbeat interval', fmt(b.eventsPerS * HEARTBEAT_S), fmt(x.eventsPerS * HEARTBEAT_S), ratio(b.eventsPerS, x.eventsPerS),
      `>= 100x fewer: ${evRatio >= 100 ? 'met' : 'missed'} (baseline at ${fmt(b.started)}, xnet at ${fmt(x.started)} hosts)`],
    ['etcd bytes sent per second (all clients)', mib(b.bytesPerS), mib(x.bytesPerS), ratio(b.bytesPerS, x.bytesPerS), '-'],
    ['heap per agent', mib(b.heapPerAgent), mib(x.heapPerAgent), same ? ratio(b.heapPerAgent, x.heapPerAgent) : '-', '-'],
    [`new node's route in place on all started agents`, `${fmt(b.routeMs / 1000, 2)} s`, `${fmt(x.routeMs / 1000, 2)} s`, same ? ratio(b.routeMs, x.routeMs) : '-',
      `<= 2 s: ${x.routeMs <= 2000 ? 'met' : 'missed'} at ${fmt(x.started)} hosts`],
    ...nicRows(r.nics, x, b),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const table = rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
  if (b.started < x.started) {
    table.push(`computed, not measured: the baseline at ${fmt(x.started)} hosts would send 5 x H x H = ${fmt(baselineEventsComputed(x.started))} watch events per interval`
      + ` (at its ${fmt(b.started)} hosts the formula gives ${fmt(baselineEventsComputed(b.started))}; measured above)`);
  }
  return table.join('\n');
}
