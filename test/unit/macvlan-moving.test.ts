// A node's Docker block that an exclude edit moved stays claimed while the node's own report
// says its Docker network still has it (controller/macvlan-moving.ts), and goes once the report
// shows the new one; what the agent reports is the ip-range Docker has (reconcilers/macvlan.ts).
// Pure planning against a seeded cache; the real thing is
// test/integration/agent-macvlan-block-in-use.test.ts.
import { describe, expect, it } from 'vitest';
import { guard, leaderKey, plannerCtx } from './planner-ctx.js';
import type { Etcd3 } from 'etcd3';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { planMacvlanNodes } from '../../pkg/controller/macvlan.js';
import { reportedDockerRange } from '../../pkg/controller/macvlan-moving.js';
import { dockerRangeOf } from '../../pkg/agent/reconcilers/macvlan.js';
import type { DockerNetwork } from '../../pkg/docker/types.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';

const OLD = '192.168.91.144/28';
const NEW = '192.168.91.128/28';
const uid = 'lan-uid';

/** etcd that takes every transaction and keeps the last one's compares */
function fakeEtcd() {
  const seen: { compares: string[] } = { compares: [] };
  const client = {
    kv: {
      txn: async (req: { compare: Array<{ key: Buffer | string }> }) => {
        seen.compares = req.compare.map((c) => String(c.key));
        return { succeeded: true, header: { revision: '100' }, responses: [] };
      },
    },
  } as unknown as Etcd3;
  return { client, seen };
}

/** n1 holds OLD; the exclude now covers an address in it (the ipRange /27 holds two /28 blocks) */
function fixture(reports: Record<string, unknown>) {
  const { client, seen } = fakeEtcd();
  const { model, seed, ctx } = plannerCtx(client);
  for (const n of ['n1', 'n2']) seed(model.keys.object('Node', n), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: n, uid: n, generation: 1 }, spec: {} });
  seed(model.keys.object('MacvlanNet', 'lan'), {
    apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan', uid, generation: 2 },
    spec: { subnet: '192.168.91.0/24', ipRange: '192.168.91.128/27', exclude: ['192.168.91.149/32'], parent: 'eth0', mode: 'bridge', hostShim: false, blockPrefix: 28, dockerIPAM: 'blocks', nodeSelector: { matchLabels: {} } },
  });
  const oldKey = model.ipam.claim('macvlannets', 'lan', 'blocks', parseIPv4('192.168.91.144'));
  seed(oldKey, { owner: { kind: 'MacvlanNet', name: 'lan', uid }, role: 'docker-block', cidr: OLD, node: 'n1' });
  for (const [node, report] of Object.entries(reports)) seed(model.keys.status('MacvlanNet', 'lan', { node }), report);
  return { model, ctx, client, seen, oldKey };
}

async function planOnce(f: ReturnType<typeof fixture>) {
  const plan = new TxnPlan(guard, leaderKey);
  const outcome = planMacvlanNodes(f.ctx, 'lan', plan, new Map());
  expect(await plan.commit(f.client, f.model.cache)).toBe(true);
  const nodes = (f.model.controllerStatus('MacvlanNet', 'lan')!.status as { nodes: Array<Record<string, unknown>> }).nodes;
  const blocks = [...f.model.claimsIn('macvlannets', 'lan', 'blocks').values()].map((c) => `${c.claim.cidr} ${c.claim.node}`).sort();
  return { outcome, nodes, blocks };
}

const report = (dockerRange: unknown, objectUid: unknown = uid) => ({ name: 'n1', ready: false, message: 'NetworkInUse', dockerRange, objectUid });

describe('a Docker block moved while the node\'s network still has it', () => {
  it('stays claimed, announced as previousDockerRange, while the node reports it; the node gets the new block beside it', async () => {
    const f = fixture({ n1: report(OLD) });
    const { outcome, nodes, blocks } = await planOnce(f);
    expect(blocks).toEqual([`${NEW} n1`, `${OLD} n1`]);
    expect(nodes.find((n) => n.name === 'n1')).toMatchObject({ dockerRange: NEW, previousDockerRange: OLD, ready: false });
    // nothing left to do: no reconcile loop while the block waits
    expect(outcome.more).toBe(false);
    // n2 is left with no block: there is none free
    expect(nodes.find((n) => n.name === 'n2')).toMatchObject({ ready: false, message: expect.stringMatching(/no free \/28 block/) });
  });

  it('is freed once the report shows the new range, the transaction comparing that report', async () => {
    const f = fixture({ n1: report(NEW) });
    const { nodes, blocks } = await planOnce(f);
    expect(blocks).toEqual([`${NEW} n1`]);
    expect(nodes.find((n) => n.name === 'n1')?.previousDockerRange).toBeUndefined();
    expect(f.seen.compares).toContain(f.model.keys.status('MacvlanNet', 'lan', { node: 'n1' }));
  });

  it('is freed when only another node claims it, or the report is about another incarnation or does not decode', async () => {
    for (const reports of [{ n2: { ...report(OLD), name: 'n2' } }, { n1: report(OLD, 'older-uid') }, { n1: report(['192.168.91.144/28']) }, { n1: report('192.168.91.144/33') }]) {
      const { blocks } = await planOnce(fixture(reports));
      expect(blocks, JSON.stringify(reports)).toEqual([`${NEW} n1`]);
    }
  });
});

describe('reportedDockerRange', () => {
  it('takes a CIDR about this incarnation, normalised, and nothing else', () => {
    expect(reportedDockerRange({ dockerRange: OLD, objectUid: uid }, uid)).toBe(OLD);
    expect(reportedDockerRange({ dockerRange: OLD }, uid)).toBe(OLD);
    expect(reportedDockerRange({ dockerRange: OLD, objectUid: 'x' }, uid)).toBeUndefined();
    for (const bad of [undefined, 7, '192.168.91.145/28', 'not a cidr', { cidr: OLD }]) expect(reportedDockerRange({ dockerRange: bad }, uid)).toBeUndefined();
    expect(reportedDockerRange(undefined, uid)).toBeUndefined();
  });
});

describe('dockerRangeOf (agent)', () => {
  const net = (name: string, owner: string | undefined, ipRange?: string): DockerNetwork =>
    ({ id: name, name, driver: 'macvlan', subnet: '192.168.91.0/24', options: {}, labels: owner ? { 'io.xnet.owner': owner } : {}, containers: 1, ...(ipRange ? { ipRange } : {}) });
  it('is the ip-range of xnet\'s network of that MacvlanNet as Docker has it, never a foreign one\'s', () => {
    expect(dockerRangeOf([net('lan', 'MacvlanNet/lan', OLD)], 'lan', 'lan')).toBe(OLD);
    expect(dockerRangeOf([net('lan', undefined, OLD)], 'lan', 'lan')).toBeUndefined();
    expect(dockerRangeOf([net('lan', 'MacvlanNet/other', OLD)], 'lan', 'lan')).toBeUndefined();
    // a user's ipvlan network named and labelled as the MacvlanNet's is not its network (planner/owner.ts)
    expect(dockerRangeOf([{ ...net('lan', 'MacvlanNet/lan', OLD), driver: 'ipvlan' as DockerNetwork['driver'] }], 'lan', 'lan')).toBeUndefined();
    expect(dockerRangeOf([net('lan', 'MacvlanNet/lan')], 'lan', 'lan')).toBeUndefined();
    expect(dockerRangeOf([], 'lan', 'lan')).toBeUndefined();
  });
});
