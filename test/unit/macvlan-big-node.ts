// MacvlanNet `big` (a /12, dockerIPAM xnet) whose nodes hold many pre-claims, planned at
// lowered bounds (docs/contributing.md, "Bounds tested at a lowered bound"): a transaction of
// LOW_BYTES instead of etcd's 1.5 MiB and at most LOW_CAP pre-claims a node instead of
// MAX_NODE_PRECLAIMS (Ctx.maxNodePreClaims), so a part too large for a transaction is a few
// thousand addresses (~15 bytes each in its list) instead of ~100,000.
import type { Etcd3 } from 'etcd3';
import { guard, leaderKey, plannerCtx } from './planner-ctx.js';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';

export const LOW_BYTES = 40_000;
export const LOW_CAP = 64;
/** More addresses than a part in a LOW_BYTES transaction lists (~60 KB). */
export const TOO_MANY = 4_000;
export const BASE = parseIPv4('10.17.0.0');

let revision = 1_000_000;
const client = { kv: { txn: async () => ({ succeeded: true, header: { revision: String(++revision) }, responses: [] }) } } as unknown as Etcd3;
const owner = { kind: 'MacvlanNet', name: 'big', uid: 'big-uid' };

export interface IpamReport { assigned?: Array<{ ip: string; container: string }>; returned?: string[]; external?: string[]; requested?: string[]; want?: number }

/** The planner's context over `nodes` (each with a heartbeat and an empty report), and what a test seeds and reads. */
export function bigNet(nodes: string[], spec: { exclude?: string[] } = {}) {
  const { model, seed, ctx, cache } = plannerCtx(client);
  ctx.maxNodePreClaims = LOW_CAP;
  seed(model.keys.object('MacvlanNet', 'big'), { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'big', uid: owner.uid, generation: 1, finalizers: ['xnet.io/network-in-use'] }, spec: { subnet: '10.16.0.0/12', parent: 'eth0', mode: 'bridge', hostShim: false, dockerIPAM: 'xnet', ...spec } });
  const report = (node: string, ipam: IpamReport = {}) => seed(model.keys.status('MacvlanNet', 'big', { node }), { ready: true, ipam: { assigned: [], returned: [], external: [], requested: [], want: 0, ...ipam } });
  for (const n of nodes) {
    seed(model.keys.object('Node', n), { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: n, uid: n, generation: 1 }, spec: {} });
    seed(model.keys.status('Node', n, { node: n }), { lastHeartbeatTime: new Date().toISOString() });
    report(n);
  }
  /** `node` pre-claims `count` addresses from `from` up (BASE + offset) */
  const hold = (node: string, count: number, from = 0) => {
    for (let j = from; j < from + count; j++) seed(model.ipam.claim('macvlannets', 'big', 'addresses', BASE + j), { owner, role: 'node-pool', ip: formatIPv4(BASE + j), node });
  };
  const held = (node: string) => [...model.claimsIn('macvlannets', 'big', 'addresses').values()].filter((c) => c.claim.node === node).length;
  const part = (node: string) => JSON.parse(cache.get(model.keys.macvlanPart(node, 'big'))?.value ?? '{}');
  const plan = () => new TxnPlan(guard, leaderKey, 128, LOW_BYTES);
  return { model, ctx, cache, client, report, hold, held, part, plan };
}

/** The address `offset` above BASE. */
export const addr = (offset: number) => formatIPv4(BASE + offset);
