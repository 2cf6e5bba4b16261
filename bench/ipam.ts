// Address allocation throughput: 10,000 ContainerNics applied at once, then a controller
// starts and allocates them all; allocations/s next to the rate of one create-if-absent
// transaction per address measured on the same etcd in the same run. Zero duplicates is
// checked (ipam check and the statuses), not assumed. On stock etcd it also prints the floor:
// the controller's transactions for as many NICs sent straight from the client
// (bench/lib/ipam-floor.ts), what the controller would reach if its own work cost nothing.
//
//   npm run bench -- ipam            IPAM_NICS=10000 IPAM_BASELINE=2000 node dist/bench/ipam.js
import type { Etcd3 } from 'etcd3';
import { createEtcdStore } from '../pkg/store/etcd-store.js';
import { Controller } from '../pkg/controller/controller.js';
import { ipamCheck } from '../pkg/ipam/check.js';
import { listPrefix } from '../pkg/runtime/kv.js';
import { Keys } from '../pkg/store/keys.js';
import { countKeys, forEachLimit, obj, quietLog, sleep } from './lib/common.js';
import { clientFloor } from './lib/ipam-floor.js';
import { MAX_ROUND_TXNS, MAX_ROUNDS_IN_FLIGHT } from '../pkg/controller/pool-executor.js';

const NICS = Number(process.env.IPAM_NICS ?? 10_000);
const BASELINE = Number(process.env.IPAM_BASELINE ?? 2_000);

/** One create-if-absent transaction per address, one after another: what a naive allocator does. */
async function baseline(client: Etcd3, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const key = Buffer.from(`/baseline/ipam/addresses/${String(i).padStart(8, '0')}`);
    const value = Buffer.from(JSON.stringify({ owner: { kind: 'ContainerNic', name: `nic-${i}`, uid: `u${i}` }, role: 'nic', ip: `10.0.${i >> 8}.${i & 255}` }));
    const r = await client.kv.txn({ compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }], success: [{ request_put: { key, value } }], failure: [] });
    if (!r.succeeded) throw new Error('baseline key existed');
  }
  return n / ((performance.now() - t0) / 1000);
}

async function run(client: Etcd3, prefix: string, maxTxnOps: number): Promise<{ rate: number; seconds: number; startup: number }> {
  const store = createEtcdStore(client, prefix);
  await store.applyAll([
    obj('ClusterNetwork', 'default', { cidr: '10.64.0.0/12', hostPrefix: 18 }),
    obj('Node', 'host-1', {}), obj('Node', 'host-2', {}),
  ]);
  const log = quietLog('bench');
  // HostSubnets first, so that what is timed is address allocation alone.
  const warm = new Controller({ client, prefix, id: 'warm', leaseTtlSeconds: 5, log, maxTxnOps });
  await warm.start();
  while ((await countKeys(client, `${prefix}/ipam/clusternetworks/default/blocks/`)) < 2) await sleep(20);
  await warm.stop();
  const nics = Array.from({ length: NICS }, (_, i) => obj('ContainerNic', `nic-${i}`, {
    node: i % 2 ? 'host-1' : 'host-2', container: `c${i}`, ifName: 'eth1', network: { clusterNetwork: 'default' },
  }));
  await store.applyAll(nics);
  // the controller as shipped: its default --workers (512)
  const c = new Controller({ client, prefix, id: 'bench', leaseTtlSeconds: 5, log, maxTxnOps });
  const t0 = performance.now();
  await c.start();
  const want = `${prefix}/ipam/clusternetworks/default/addresses/`;
  // when the first address is stored: what came before is start-up (the list, the election)
  let first = 0;
  for (let n = 0; n < NICS; n = await countKeys(client, want)) {
    if (n > 0 && !first) first = performance.now();
    await sleep(20);
  }
  const seconds = (performance.now() - t0) / 1000;
  await c.stop();
  const report = await ipamCheck(client, prefix);
  // a NIC's status is kept in the index of its node (keys.controllerStatus)
  const keys = new Keys(prefix);
  const statuses = (await listPrefix(client, keys.nodeIndexRoot())).kvs.filter((kv) => keys.parseIndexedStatus(kv.key));
  const ips = statuses.map((kv) => (JSON.parse(kv.value) as { ip?: string }).ip);
  const distinct = new Set(ips.filter(Boolean)).size;
  if (report.problems || distinct !== NICS) {
    process.stdout.write(report.text);
    throw new Error(`allocation check failed: ${distinct} distinct addresses for ${NICS} NICs, ${report.problems} problem(s)`);
  }
  return { rate: NICS / seconds, seconds, startup: ((first || performance.now()) - t0) / 1000 };
}

let base = 0;
await forEachLimit('ipam', async ({ ops, label, client, first }) => {
  if (first) {
    base = await baseline(client, BASELINE);
    console.log(`baseline: one create-if-absent txn per address, sequential, ${label}: ${base.toFixed(0)} allocations/s (${BASELINE} addresses)`);
  }
  const r = await run(client, `/bench${ops}`, ops);
  console.log(`xnet-controller, ${label}, --max-txn-ops ${ops}: ${NICS} NICs in ${r.seconds.toFixed(2)} s = ${r.rate.toFixed(0)} allocations/s, ` +
    `ratio ${(r.rate / base).toFixed(1)}x baseline; duplicates 0, leaks 0 (ipam check)`);
  // the figure above is the target's; this split says where its time went (docs/scale.md)
  const after = r.seconds - r.startup;
  console.log(`  of which start-up until the first address ${r.startup.toFixed(2)} s; the other addresses in ${after.toFixed(2)} s = ` +
    `${((NICS - 1) / after).toFixed(0)} allocations/s, ${((NICS - 1) / after / base).toFixed(1)}x baseline (20 ms polls)`);
  if (first) {
    // after the controller's run, so its etcd holds only what the baseline wrote. 42 NICs of
    // 3 compares (and 2 puts) fill a 128-op transaction, as the controller's do.
    const floor = await clientFloor(client, '/floor', NICS, Math.floor((ops - 1) / 3), MAX_ROUND_TXNS * MAX_ROUNDS_IN_FLIGHT);
    console.log(`floor, ${label}: the controller's transactions for ${NICS} NICs sent straight from the client, watched, no controller: ` +
      `${floor.toFixed(0)} allocations/s, ratio ${(floor / base).toFixed(1)}x baseline`);
  }
});
