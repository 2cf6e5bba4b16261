// xnet-controller's metrics endpoint, scraped over HTTP from the real program against a real
// etcd: health and readiness, leader status, allocations with their latency, reconciles per
// kind, the work queue and etcd request latency.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { httpGet, sample, scrape } from '../harness/scrape.js';
import { freePort } from '../../pkg/etcd/server.js';

const DIST = resolve('dist/cmd');
let etcd: TestEtcd;
let controller: ResultPromise | undefined;
let base: string;

const MANIFEST = `apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata: {name: metrics}
spec: {cidr: 10.90.0.0/16, hostPrefix: 24}
---
apiVersion: xnet.io/v1alpha1
kind: Node
metadata: {name: m-1}
spec: {address: 198.18.0.11}
---
apiVersion: xnet.io/v1alpha1
kind: Node
metadata: {name: m-2}
spec: {address: 198.18.0.12}
---
# A HostSubnet a user pinned: the controller reconciles it (the ones it makes itself it has
# planned already, so only someone else's write makes a HostSubnet reconcile run).
apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata: {name: pinned}
spec: {cidr: 10.92.0.0/16, hostPrefix: 24}
---
apiVersion: xnet.io/v1alpha1
kind: HostSubnet
metadata: {name: pinned-m-1}
spec: {node: m-1, clusterNetwork: pinned, subnet: 10.92.7.0/24}
`;

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  if (!existsSync(`${DIST}/xnet-controller.js`)) throw new Error('dist/cmd/xnet-controller.js is missing: run "npx tsc" first');
  etcd = await startEtcd();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  controller = execa('node', [`${DIST}/xnet-controller.js`, '--endpoints', etcd.endpoints.join(','), '--metrics-addr', `127.0.0.1:${port}`, '--lease-ttl', '3'], { reject: false });
  const applied = await execa('node', [`${DIST}/xctl.js`, 'apply', '-f', '-'], { input: MANIFEST, reject: false, env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') } });
  expect(applied.exitCode, applied.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  controller?.kill('SIGTERM');
  await controller;
  await etcd?.stop();
});

describe('xnet-controller --metrics-addr', () => {
  it('answers /healthz, then /readyz once its cache is loaded; unknown paths are 404', async () => {
    await until('/healthz', async () => ((await httpGet(`${base}/healthz`)).status === 200 ? true : undefined));
    await until('/readyz 200', async () => ((await httpGet(`${base}/readyz`)).status === 200 ? true : undefined));
    expect((await httpGet(`${base}/nope`)).status).toBe(404);
  });

  it('reports leadership, the allocations it made and their latency, reconciles per kind, its queue and etcd latency', async () => {
    // a reconcile's duration is recorded when it ends, after the allocation it made is counted
    const text = await until('two HostSubnet allocations and a reconcile of each kind', async () => {
      const t = await scrape(`${base}/metrics`);
      const reconciled = ['Node', 'ClusterNetwork', 'HostSubnet'].every((kind) => sample(t, 'xnet_reconcile_duration_seconds_count', { kind }));
      return reconciled && (sample(t, 'xnet_allocations_total', { kind: 'HostSubnet', result: 'allocated' }) ?? 0) >= 2 ? t : undefined;
    });
    expect(sample(text, 'xnet_leader', { component: 'controller' })).toBe(1);
    expect(sample(text, 'xnet_leader_terms_total')).toBe(1);
    expect(sample(text, 'xnet_allocation_latency_seconds_count', { kind: 'HostSubnet' })).toBeGreaterThanOrEqual(2);
    for (const kind of ['Node', 'ClusterNetwork', 'HostSubnet']) {
      expect(sample(text, 'xnet_reconcile_duration_seconds_count', { kind }), kind).toBeGreaterThan(0);
    }
    expect(sample(text, 'xnet_workqueue_depth', { queue: 'controller' })).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'xnet_etcd_request_duration_seconds_count', { method: 'KV.txn' })).toBeGreaterThan(0);
    expect(sample(text, 'xnet_etcd_request_duration_seconds_count', { method: 'KV.range' })).toBeGreaterThan(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts a refused allocation: a pool too small for the third node', async () => {
    const small = `apiVersion: xnet.io/v1alpha1\nkind: ClusterNetwork\nmetadata: {name: tiny}\nspec: {cidr: 10.91.0.0/24, hostPrefix: 25}\n---\napiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata: {name: m-3}\nspec: {address: 198.18.0.13}\n`;
    const applied = await execa('node', [`${DIST}/xctl.js`, 'apply', '-f', '-'], { input: small, reject: false, env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') } });
    expect(applied.exitCode, applied.stderr).toBe(0);
    await until('a failed HostSubnet allocation', async () => {
      const t = await scrape(`${base}/metrics`);
      return (sample(t, 'xnet_allocations_total', { kind: 'HostSubnet', result: 'failed' }) ?? 0) >= 1 ? t : undefined;
    });
  });

  it('counts a NIC that waits for an address as a wait, not as a reconcile error (no XnetReconcileErrors on a full pool)', async () => {
    // a /29 per node holds fewer addresses than six NICs ask for: the last ones wait for one
    const nics = Array.from({ length: 6 }, (_, i) => `---\napiVersion: xnet.io/v1alpha1\nkind: ContainerNic\nmetadata: {name: full-${i}}\nspec: {node: m-1, container: c${i}, ifName: eth1, network: {clusterNetwork: full}}\n`).join('');
    const manifest = `apiVersion: xnet.io/v1alpha1\nkind: ClusterNetwork\nmetadata: {name: full}\nspec: {cidr: 10.93.0.0/24, hostPrefix: 29}\n${nics}`;
    const applied = await execa('node', [`${DIST}/xctl.js`, 'apply', '-f', '-'], { input: manifest, reject: false, env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') } });
    expect(applied.exitCode, applied.stderr).toBe(0);
    // some allocated and one refused for the full pool (a Warning): the waits after are the pool's
    const text = await until('ContainerNic addresses, and one refused', async () => {
      const t = await scrape(`${base}/metrics`);
      const allocated = sample(t, 'xnet_allocations_total', { kind: 'ContainerNic', result: 'allocated' }) ?? 0;
      return allocated > 0 && sample(t, 'xnet_allocations_total', { kind: 'ContainerNic', result: 'failed' }) ? t : undefined;
    });
    expect(sample(text, 'xnet_reconcile_waits_total', { kind: 'ContainerNic' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'xnet_reconcile_errors_total', { kind: 'ContainerNic' }) ?? 0).toBe(0);
  });
});
