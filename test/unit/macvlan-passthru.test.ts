// A passthru macvlan hands its parent over: it gets every unicast frame of the parent, and a MAC
// set on it is set on the parent itself (the kernel's macvlan_set_mac_address on a passthru
// port calls dev_set_mac_address on the lower device). On the Node's interface (the default
// parent) the host would lose its own traffic, etcd's included. So passthru needs an explicit
// spec.parent and hostShim: false (xctl apply and the agent read one rule, pkg/api/rules.ts),
// the agent makes nothing passthru on a parent the host relies on, and it never sets a MAC on
// a passthru NIC.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type MacvlanNet, type Node } from '../../pkg/api/index.js';
import type { AgentContext } from '../../pkg/agent/context.js';
import { desiredMacvlan } from '../../pkg/agent/desired.js';
import { MacWaits } from '../../pkg/agent/mac-wait.js';
import { nicDifferences, planNic, type DesiredNic } from '../../pkg/agent/planner/nic.js';
import { nicAlias } from '../../pkg/agent/planner/names.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { reconcileMacvlan } from '../../pkg/agent/reconcilers/macvlan.js';
import { formatIssue } from '../../pkg/manifest/errors.js';
import type { DockerNetwork } from '../../pkg/docker/types.js';
import type { Addr, Link } from '../../pkg/netlink/types.js';
import { parseSources } from '../../pkg/manifest/load.js';
import { refuse } from './manifest-refuse.js';

const yaml = (spec: string) => `apiVersion: xnet.io/v1alpha1\nkind: MacvlanNet\nmetadata:\n  name: lan\nspec:\n  subnet: 192.168.1.0/24\n${spec}`;

describe('xctl apply: mode passthru', () => {
  it('is refused without spec.parent, at spec.mode, naming file, document and line', () => {
    expect(refuse(yaml('  hostShim: false\n  mode: passthru\n')).map(formatIssue)).toEqual([
      expect.stringMatching(/^m\.yaml:8: document 1 \(macvlannet\/lan\): spec\.mode: passthru needs spec\.parent: .*the Node's interface/),
    ]);
  });

  it('is refused with the host shim on, at spec.hostShim', () => {
    expect(refuse(yaml('  parent: eth1\n  mode: passthru\n  hostShim: true\n')).map(formatIssue)).toEqual([
      expect.stringMatching(/^m\.yaml:9: document 1 \(macvlannet\/lan\): spec\.hostShim: must be false with mode passthru: /),
    ]);
  });

  it('is taken with spec.parent and hostShim: false', () => {
    expect(parseSources([{ file: 'm.yaml', text: yaml('  parent: eth1\n  mode: passthru\n  hostShim: false\n') }])).toHaveLength(1);
  });
});

const meta = (name: string) => ({ name, generation: 1 });
const self: Node = { apiVersion: API_VERSION, kind: 'Node', metadata: meta('host-1'), spec: {}, status: { interface: 'eth0' } };
const lan = (spec: Partial<MacvlanNet['spec']>): MacvlanNet => ({
  apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: meta('lan'),
  spec: { subnet: '192.168.1.0/24', mode: 'passthru', promiscuous: true, hostShim: false, blockPrefix: 28, dockerIPAM: 'blocks', ...spec },
  status: { nodes: [{ name: 'host-1', dockerRange: '192.168.1.128/28' }] },
});

describe('the agent: a stored MacvlanNet in passthru mode', () => {
  it('without spec.parent (the Node\'s interface) gets no Docker network, and says why', () => {
    const r = desiredMacvlan(lan({}), 'host-1', self, []);
    expect(r.desired?.network).toBeUndefined();
    expect(r.problem).toMatchObject({ reason: 'InvalidSpec', message: expect.stringMatching(/^MacvlanNet lan: spec\.mode passthru needs spec\.parent/) });
  });

  it('with spec.parent gets its Docker network in passthru mode on that parent', () => {
    const r = desiredMacvlan(lan({ parent: 'eth1' }), 'host-1', self, []);
    expect(r.problem).toBeUndefined();
    expect(r.desired?.network?.options).toEqual({ parent: 'eth1', macvlan_mode: 'passthru' });
  });
});

const link = (name: string, ifindex: number, extra: Partial<Link> = {}): Link =>
  ({ name, ifindex, mac: `02:00:00:00:00:0${ifindex}`, mtu: 1500, up: true, promisc: false, ...extra });

/** An agent on host-1 whose host has eth0 (the Node's, addressed), eth1 (addressed), eth2 (bare) and the MacvlanNet `m`. */
function agentWith(m: MacvlanNet) {
  const executed: Op[] = [];
  const written: Array<{ reason: string; message: string }> = [];
  let networks: DockerNetwork[] = [];
  const addrs: Addr[] = [{ dev: 'eth0', cidr: '198.18.0.11/24' }, { dev: 'eth1', cidr: '10.9.0.5/24' }];
  const empty = { get: () => undefined, list: () => [], hasSynced: () => true };
  const ctx = {
    node: 'host-1', routeProblems: [], removedNics: new Map(), macWaits: new MacWaits(), capabilities: {},
    log: { info: () => undefined, warn: () => undefined, debug: () => undefined },
    caches: {
      nics: empty, hostSubnets: empty, clusterNetworks: empty,
      macvlanNets: { get: () => m, list: () => [m], hasSynced: () => true },
      nodes: { get: (n: string) => (n === 'host-1' ? self : undefined), list: () => [self] },
    },
    unreadable: () => [],
    status: { write: async (_k: string, _o: unknown, _f: unknown, r: { reason: string; message: string }) => { written.push(r); }, lastReported: () => undefined },
    dp: {
      hostState: async () => ({ links: [link('lo', 1), link('eth0', 2), link('eth1', 3), link('eth2', 4)], addrs, routes: [] }),
      hostUse: async () => ({ addrs, routes: [], rules: [] }),
      dockerNetworks: async () => networks,
      docker: { listNetworks: async () => networks },
      execute: async (ops: Op[]) => {
        executed.push(...ops);
        for (const o of ops) if (o.op === 'docker.network.create') networks = [...networks, { ...o.spec, id: 'id', containers: 0 }];
      },
    },
  } as unknown as AgentContext;
  return { ctx, executed, written };
}

describe('the agent: a passthru parent the host relies on', () => {
  for (const [parent, why] of [['eth0', /it is the Node's interface/], ['eth1', /it carries the address 10\.9\.0\.5\/24/]] as const) {
    it(`makes nothing on ${parent} (no Docker network, the parent left as it is) and says why`, async () => {
      const a = agentWith(lan({ parent }));
      await reconcileMacvlan(a.ctx, 'lan');
      expect(a.executed.map((o) => o.op)).toEqual([]);
      expect(a.written.at(-1)).toMatchObject({ reason: 'ParentInUse', message: expect.stringMatching(why) });
    });
  }

  it('makes the Docker network on a parent the host does not use', async () => {
    const a = agentWith(lan({ parent: 'eth2' }));
    await reconcileMacvlan(a.ctx, 'lan');
    expect(a.executed).toContainEqual(expect.objectContaining({ op: 'docker.network.create', spec: expect.objectContaining({ options: { parent: 'eth2', macvlan_mode: 'passthru' } }) }));
    expect(a.written.at(-1)).toMatchObject({ status: 'True' });
  });
});

describe('the planner: a passthru NIC', () => {
  const NS = { path: '/proc/1/fd/42', pid: 4242 };
  const d: DesiredNic = {
    name: 'web-lan', ifName: 'eth1', cidr: '192.168.1.50/24', mac: '02:42:c0:a8:01:32', defaultRoute: false, netns: NS,
    attach: { kind: 'macvlan', parent: 'eth2', mode: 'passthru' },
  };
  const host = { links: [link('lo', 1), link('eth2', 4, { mac: '52:54:00:12:34:56' })], addrs: [], routes: [] };
  const macSets = (ops: Op[]) => ops.filter((o) => o.op === 'link.set.mac');

  it('made anew: the macvlan keeps the parent\'s MAC (setting one would set the parent\'s)', () => {
    const plan = planNic(d, host, { links: [link('lo', 1)], addrs: [], routes: [] });
    expect(plan.problems).toEqual([]);
    expect(plan.ops).toContainEqual({ op: 'link.add.macvlan', name: expect.any(String), parent: 'eth2', mode: 'passthru' });
    expect(macSets(plan.ops)).toEqual([]);
  });

  it('in place with the parent\'s MAC: nothing to change, and no difference reported', () => {
    const inC = link('eth1', 9, { kind: 'macvlan', linkIndex: 4, mac: '52:54:00:12:34:56', alias: nicAlias('web-lan') });
    const container = { links: [link('lo', 1), inC], addrs: [{ dev: 'eth1', cidr: '192.168.1.50/24' }], routes: [] };
    expect(macSets(planNic(d, host, container).ops)).toEqual([]);
    expect(nicDifferences(d, container)).toEqual([]);
  });
});
