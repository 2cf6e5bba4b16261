// A macvlan network labelled io.xnet.owner=MacvlanNet/<name> is removed as xnet's only when this
// node's network record (pkg/agent/network-record.ts) holds its id under that label: anyone can
// write the label. A user's network so labelled stays (and is named once per agent run in the
// log) when (a) that MacvlanNet is gone, (b) it no longer selects this node, (c) it sits under
// another name than the MacvlanNet's network while the MacvlanNet is served here; xnet's own,
// recorded when Docker made it or found it in place, is removed in each case.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { API_VERSION, type MacvlanNet, type Node } from '../../pkg/api/index.js';
import type { AgentContext } from '../../pkg/agent/context.js';
import { MacWaits } from '../../pkg/agent/mac-wait.js';
import { NetworkRecord } from '../../pkg/agent/network-record.js';
import { macvlanLeftovers, planMacvlan, planMacvlanRemoval, shimName, type DesiredMacvlan } from '../../pkg/agent/planner/index.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { reconcileMacvlan, removeMacvlanLeftovers } from '../../pkg/agent/reconcilers/macvlan.js';
import type { DockerNetwork, DockerNetworkSpec } from '../../pkg/docker/types.js';
import type { Link } from '../../pkg/netlink/types.js';

const dir = mkdtempSync(join(tmpdir(), 'xnet-macvlan-record-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const link = (name: string, ifindex: number, extra: Partial<Link> = {}): Link => ({ name, ifindex, mac: `02:00:00:00:00:0${ifindex}`, mtu: 1500, up: true, promisc: true, ...extra });
const self: Node = { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'host-1', generation: 1, labels: { zone: 'a' } }, spec: {}, status: { interface: 'eth0' } };
const lan: MacvlanNet = {
  apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'lan', generation: 1 },
  spec: { subnet: '192.168.200.0/24', gateway: '192.168.200.1', mode: 'bridge', promiscuous: true, hostShim: false, blockPrefix: 28, dockerIPAM: 'blocks' },
  status: { nodes: [{ name: 'host-1', dockerRange: '192.168.200.128/28' }] },
};
const elsewhere: MacvlanNet = { ...lan, spec: { ...lan.spec, nodeSelector: { matchLabels: { zone: 'b' } } } };
const spec: DockerNetworkSpec = {
  name: 'lan', driver: 'macvlan', subnet: '192.168.200.0/24', gateway: '192.168.200.1', ipRange: '192.168.200.128/28',
  options: { parent: 'eth0', macvlan_mode: 'bridge' }, labels: { 'io.xnet.owner': 'MacvlanNet/lan' },
};
/** xnet's network of MacvlanNet lan, under its name */
const xnets: DockerNetwork = { ...spec, id: 'xnet-id', containers: 0 };
/** a user's macvlan network carrying lan's label, under another name (or xnet's under an older one) */
const labelled: DockerNetwork = { ...spec, id: 'user-id', name: 'usernet', subnet: '10.50.0.0/24', gateway: undefined, ipRange: undefined, options: { parent: 'eth0' }, containers: 0 };
const removals = (ops: Op[]) => ops.flatMap((o) => (o.op === 'docker.network.remove' ? [o.name] : []));
const linkDeletions = (ops: Op[]) => ops.flatMap((o) => (o.op === 'link.del' ? [o.name] : []));
const recorded = (...nets: DockerNetwork[]) => new Map(nets.map((n) => [n.id, n.labels['io.xnet.owner']]));

describe('a macvlan network labelled for a MacvlanNet, at the planner', () => {
  const d: DesiredMacvlan = { name: 'lan', parent: 'eth0', promiscuous: true, network: spec };
  const host = { links: [link('lo', 1), link('eth0', 2)], routes: [], addrs: [] };

  it('(a) names the gone MacvlanNet for removal only when its network is recorded; a user\'s is unproven', () => {
    expect(macvlanLeftovers([labelled], new Set(), new Set(), undefined)).toEqual({ names: [], unproven: [labelled] });
    expect(macvlanLeftovers([labelled], new Set(), new Set(), new Map())).toEqual({ names: [], unproven: [labelled] });
    expect(macvlanLeftovers([labelled], new Set(), new Set(), recorded(labelled))).toEqual({ names: ['lan'], unproven: [] });
  });

  it('(a, b) removes, when the MacvlanNet goes from this node, only the networks recorded under the label they carry', () => {
    expect(removals(planMacvlanRemoval('lan', host, [xnets, labelled], recorded(xnets)).ops)).toEqual(['lan']);
    expect(removals(planMacvlanRemoval('lan', host, [xnets, labelled], recorded(xnets, labelled)).ops)).toEqual(['lan', 'usernet']);
    // the id recorded for another object's label: not this network's evidence
    expect(removals(planMacvlanRemoval('lan', host, [labelled], new Map([['user-id', 'MacvlanNet/other']])).ops)).toEqual([]);
  });

  it('(c) keeps a network labelled for the served MacvlanNet under another name unless this node made it', () => {
    expect(removals(planMacvlan(d, host, [xnets, labelled], recorded(xnets)).ops)).toEqual([]);
    expect(removals(planMacvlan(d, host, [xnets, labelled], undefined).ops)).toEqual([]);
    expect(removals(planMacvlan(d, host, [xnets, labelled], recorded(xnets, labelled)).ops)).toEqual(['usernet']);
  });
});

interface World { mvns: MacvlanNet[]; networks: DockerNetwork[]; record: NetworkRecord; reports?: Set<string> }

/** An agent on host-1 with Docker `networks`, the MacvlanNets `mvns` in its caches and its network record. */
function agentOn(w: World) {
  const reports = (w.reports ??= new Set());
  const executed: Op[] = [];
  const warnings: string[] = [];
  const empty = { get: () => undefined, list: () => [], hasSynced: () => true };
  const ctx = {
    node: 'host-1', routeProblems: [], removedNics: new Map(), macWaits: new MacWaits(), capabilities: {}, networks: w.record,
    log: { info: () => undefined, warn: (m: string) => { warnings.push(m); }, debug: () => undefined },
    caches: {
      nics: empty, hostSubnets: empty, clusterNetworks: empty,
      macvlanNets: { get: (n: string) => w.mvns.find((m) => m.metadata.name === n), list: () => w.mvns, hasSynced: () => true },
      nodes: { get: (n: string) => (n === 'host-1' ? self : undefined), list: () => [self] },
    },
    unreadable: () => [],
    ownReports: (kind: string) => (kind === 'MacvlanNet' ? [...reports] : []),
    status: { remove: async (_k: string, n: string) => { reports.delete(n); }, write: async () => undefined, lastReported: () => undefined },
    dp: {
      hostState: async () => ({ links: [link('lo', 1), link('eth0', 2), link(shimName('lan'), 5, { kind: 'macvlan', parent: 'eth0', alias: 'xnet:shim:lan' })], addrs: [], routes: [] }),
      dockerNetworks: async () => w.networks,
      docker: { listNetworks: async () => w.networks, inspectNetwork: async (name: string) => w.networks.find((n) => n.name === name || n.id === name) },
      execute: async (ops: Op[]) => {
        executed.push(...ops);
        for (const o of ops) {
          if (o.op === 'docker.network.remove') w.networks = w.networks.filter((n) => n.name !== o.name);
          if (o.op === 'docker.network.create') w.networks = [...w.networks, { ...o.spec, id: `made-${o.spec.name}`, containers: 0 }];
        }
      },
    },
  } as unknown as AgentContext;
  return { ctx, executed, warnings };
}
const record = (made: DockerNetwork[] = []) => {
  const r = new NetworkRecord(join(dir, `networks-${files++}.json`), () => undefined);
  r.update(recorded(...made));
  return r;
};
const unproven = (warnings: string[]) => warnings.filter((m) => m.includes('has no record of making it: it stays'));

describe('a macvlan network labelled for a MacvlanNet, at the reconciler', () => {
  it('(a) a gone MacvlanNet: a user\'s network so labelled stays and is named once per run; xnet\'s recorded one goes', async () => {
    const user = agentOn({ mvns: [], networks: [labelled], record: record() });
    await removeMacvlanLeftovers(user.ctx);
    await removeMacvlanLeftovers(user.ctx);
    expect(removals(user.executed)).toEqual([]);
    expect(unproven(user.warnings)).toEqual([expect.stringMatching(/^Docker network usernet is labelled io.xnet.owner=MacvlanNet\/lan, a MacvlanNet that has no network of that name on this node, but this node has no record/)]);
    const own = agentOn({ mvns: [], networks: [xnets], record: record([xnets]) });
    await removeMacvlanLeftovers(own.ctx);
    expect(removals(own.executed)).toEqual(['lan']);
  });

  it('(b) a MacvlanNet that no longer selects this node: only the network this node made goes', async () => {
    const user = agentOn({ mvns: [elsewhere], networks: [{ ...labelled, name: 'lan', id: 'user-lan' }], record: record() });
    await reconcileMacvlan(user.ctx, 'lan');
    await reconcileMacvlan(user.ctx, 'lan');
    expect(removals(user.executed)).toEqual([]);
    expect(unproven(user.warnings)).toHaveLength(1);
    const own = agentOn({ mvns: [elsewhere], networks: [xnets], record: record([xnets]) });
    await reconcileMacvlan(own.ctx, 'lan');
    expect(removals(own.executed)).toEqual(['lan']);
  });

  it('(c) a served MacvlanNet: a network carrying its label under another name stays unless this node made it', async () => {
    const user = agentOn({ mvns: [lan], networks: [xnets, labelled], record: record() });
    await reconcileMacvlan(user.ctx, 'lan');
    await reconcileMacvlan(user.ctx, 'lan');
    expect(removals(user.executed)).toEqual([]);
    expect(unproven(user.warnings)).toHaveLength(1);
    // the served network in place was recorded as this node's own
    expect([...user.ctx.networks!.made()]).toEqual([['xnet-id', 'MacvlanNet/lan']]);
    const own = agentOn({ mvns: [lan], networks: [xnets, labelled], record: record([labelled]) });
    await reconcileMacvlan(own.ctx, 'lan');
    expect(removals(own.executed)).toEqual(['usernet']);
  });

  it('records the network Docker makes for a served MacvlanNet, so that it goes once the MacvlanNet is gone', async () => {
    const w: World = { mvns: [lan], networks: [], record: record() };
    const a = agentOn(w);
    await reconcileMacvlan(a.ctx, 'lan');
    expect(a.executed.filter((o) => o.op === 'docker.network.create')).toHaveLength(1);
    expect([...w.record.made()]).toEqual([['made-lan', 'MacvlanNet/lan']]);
    w.mvns = [];
    await removeMacvlanLeftovers(a.ctx);
    expect(removals(a.executed)).toEqual(['lan']);
  });

  it('a gone MacvlanNet\'s unrecorded network with containers on it keeps this node\'s report (its addresses may be in use) and the host shim until they leave', async () => {
    // xnet's own network from before the record (an upgrade), containers still on it
    const w: World = { mvns: [], networks: [{ ...xnets, containers: 2 }], record: record(), reports: new Set(['lan']) };
    const a = agentOn(w);
    await removeMacvlanLeftovers(a.ctx);
    expect(removals(a.executed)).toEqual([]);
    expect([...w.reports!]).toEqual(['lan']);
    // the host reaches those containers through the shim
    expect(linkDeletions(a.executed)).toEqual([]);
    // the containers left: the next look lets the report and the shim go (the network itself stays: unproven)
    w.networks = [{ ...xnets, containers: 0 }];
    await removeMacvlanLeftovers(a.ctx);
    expect([...w.reports!]).toEqual([]);
    expect(removals(a.executed)).toEqual([]);
    expect(linkDeletions(a.executed)).toEqual([shimName('lan')]);
  });

  it('a MacvlanNet that left this node keeps its shim while containers are on its recorded network, whose removal waits for them', async () => {
    const w: World = { mvns: [elsewhere], networks: [{ ...xnets, containers: 1 }], record: record([xnets]) };
    const a = agentOn(w);
    await reconcileMacvlan(a.ctx, 'lan');
    expect(removals(a.executed)).toEqual([]);
    expect(linkDeletions(a.executed)).toEqual([]);
    w.networks = [{ ...xnets, containers: 0 }];
    await reconcileMacvlan(a.ctx, 'lan');
    expect(removals(a.executed)).toEqual(['lan']);
    expect(linkDeletions(a.executed)).toEqual([shimName('lan')]);
  });
});
