// Peers that join together reach a host's routing table in one `ip -batch` (issue 10: "all 200
// routes in one ip -batch"): a real agent on a lab host (its own namespace, real `ip`), peers
// written in two groups a moment apart, as an apply's transactions (at most 128 operations
// each) or the controller's committed side by side arrive. The agent waits a short window
// (routesSettleMs) after the first change before its routes pass, and does not push it out
// for later ones. With no window (routesSettleMs: 0) the same test sees two batches, [20, 20].
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataplane, type Executed } from '../../pkg/agent/dataplane.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { netnsTarget } from '../../pkg/netlink/target.js';
import type { LabHost } from '../../pkg/lab/index.js';
import { eventually, obj, oneHostAgentLab, routes, type AgentLab } from './agent-harness.js';
import { until } from './helpers.js';

/**
 * The real dataplane, recording how many route changes each execute() carried and when a
 * routes pass last read the table (every pass does, also one that changes nothing).
 */
class CountingDataplane extends Dataplane {
  readonly routeBatches: number[] = [];
  lastRoutesRead = Date.now();
  constructor(h: LabHost) {
    super(netnsTarget(h.netns), h.dockerHost);
    const read = this.ip.routes.bind(this.ip);
    this.ip.routes = (table?: string) => { this.lastRoutesRead = Date.now(); return read(table); };
  }
  override async execute(ops: Op[], opts?: { independent?: boolean }): Promise<Executed> {
    const n = ops.filter((o) => o.op === 'route.replace').length;
    if (n) this.routeBatches.push(n);
    return super.execute(ops, opts);
  }
}

const PEERS = 40;
const peer = (i: number) => ({ node: `peer-${i}`, hs: `default-peer-${i}`, subnet: `10.76.${100 + i}.0/24`, address: `198.18.0.${30 + i}` });
let lab: AgentLab;
let dp: CountingDataplane;

beforeAll(async () => {
  // a window far wider than the gap below, so that a loaded machine cannot stretch one past the other
  lab = await oneHostAgentLab((h) => ({ dataplane: (dp = new CountingDataplane(h)), routesSettleMs: 1500 }));
  // Quiet first: the start-up's own changes (its bridge's route, seen by the route monitor)
  // start passes of their own, and one that started during the burst below would take half.
  await until(() => Date.now() - dp.lastRoutesRead > 3000, 'no routes pass for 3 s', 60_000);
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('routes to peers that join together', () => {
  it('go into the table in one ip -batch when they arrive a moment apart', async () => {
    const peers = Array.from({ length: PEERS }, (_, i) => peer(i));
    const before = dp.routeBatches.length;
    // A peer is routable once its Node (the next hop, spec.address) and HostSubnet are there:
    // half of them now, half 200 ms later (longer than a routes pass takes to read the table).
    const apply = (ps: typeof peers) => lab.store.applyAll(ps.flatMap((p) => [
      obj('Node', p.node, { address: p.address }),
      obj('HostSubnet', p.hs, { node: p.node, clusterNetwork: 'default', subnet: p.subnet }),
    ]));
    await apply(peers.slice(0, PEERS / 2));
    await new Promise((r) => setTimeout(r, 200));
    await apply(peers.slice(PEERS / 2));
    const subnets = new Set(peers.map((p) => p.subnet));
    await eventually(async () => (await routes(lab.hosts[0])).filter((r) => r.protocol === '76' && subnets.has(r.dst)).length === PEERS, 'all peer routes in the table', 20_000);
    expect(dp.routeBatches.slice(before)).toEqual([PEERS]);
  }, 60_000);
});
