// 1,000 nodes registered at once: time until every one has its HostSubnet (object, block
// claim and status, made together), next to the same work done as one transaction per
// node, one after another, on the same etcd in the same run.
//
//   npm run bench -- nodes           NODES=1000 node dist/bench/nodes.js
import { randomUUID } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { createEtcdStore } from '../pkg/store/etcd-store.js';
import { Controller } from '../pkg/controller/controller.js';
import { ipamCheck } from '../pkg/ipam/check.js';
import { API_VERSION } from '../pkg/api/index.js';
import { countKeys, forEachLimit, obj, quietLog, sleep } from './lib/common.js';

const NODES = Number(process.env.NODES ?? 1000);

/** Per node: one transaction creating the HostSubnet object, its block claim and its status. */
async function baseline(client: Etcd3, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const k = (s: string) => Buffer.from(`/baseline/nodes/${s}/${i}`);
    const put = (key: Buffer, v: unknown) => ({ request_put: { key, value: Buffer.from(JSON.stringify(v)) } });
    const hs = { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: `default-n${i}`, uid: randomUUID(), generation: 1 }, spec: { node: `n${i}`, clusterNetwork: 'default' } };
    const subnet = `10.${i >> 8}.${i & 255}.0/24`;
    const r = await client.kv.txn({
      compare: [k('object'), k('claim'), k('status')].map((key) => ({ key, target: 'Create' as const, result: 'Equal' as const, create_revision: 0 })),
      success: [put(k('object'), hs), put(k('claim'), { owner: { kind: 'HostSubnet', name: hs.metadata.name, uid: hs.metadata.uid }, role: 'hostsubnet', cidr: subnet }), put(k('status'), { subnet })],
      failure: [],
    });
    if (!r.succeeded) throw new Error('baseline key existed');
  }
  return (performance.now() - t0) / 1000;
}

/** One controller run: nodes applied at once, time until all have HostSubnet statuses. */
async function run(client: Etcd3, ops: number): Promise<{ seconds: number; applied: number }> {
  const prefix = `/nodes${ops}`;
  const store = createEtcdStore(client, prefix);
  const log = quietLog('bench');
  await store.applyAll([obj('ClusterNetwork', 'default', { cidr: '10.0.0.0/8', hostPrefix: 24 })]);
  const c = new Controller({ client, prefix, id: `bench${ops}`, leaseTtlSeconds: 5, log, maxTxnOps: ops, workers: 256 });
  await c.start();
  while (!c.isLeader) await sleep(10);
  const nodes = Array.from({ length: NODES }, (_, i) => obj('Node', `n${i}`, { address: `198.18.${i >> 8}.${i & 255}` }));
  const t0 = performance.now();
  await store.applyAll(nodes);
  const applied = (performance.now() - t0) / 1000;
  const statusPrefix = `${prefix}/registry/status/controller/hostsubnets/`;
  while ((await countKeys(client, statusPrefix)) < NODES) await sleep(20);
  const seconds = (performance.now() - t0) / 1000;
  await c.stop();
  const report = await ipamCheck(client, prefix);
  if (report.problems) { process.stdout.write(report.text); throw new Error(`${report.problems} IPAM problem(s)`); }
  return { seconds, applied };
}

let baseSeconds = 0;
await forEachLimit('nodes', async ({ ops, label, client, first }) => {
  if (first) {
    baseSeconds = await baseline(client, NODES);
    console.log(`baseline: one transaction per node, sequential, ${label}: ${NODES} HostSubnets in ${baseSeconds.toFixed(2)} s`);
  }
  const { seconds, applied } = await run(client, ops);
  const after = seconds - applied;
  console.log(`xnet-controller, ${label}, --max-txn-ops ${ops}: ${NODES} nodes registered in one apply -> all have subnets ${seconds.toFixed(2)} s after the apply began ` +
    `(the apply itself ${applied.toFixed(2)} s; the controller finished ${after.toFixed(2)} s after it returned). ` +
    `Ratio to baseline: ${(baseSeconds / seconds).toFixed(1)}x end to end, ${(baseSeconds / after).toFixed(1)}x for the controller's part; ipam check clean`);
});
