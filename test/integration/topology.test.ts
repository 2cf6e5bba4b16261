// xctl topology against a real etcd: the stored objects drawn as text and DOT; -o svg uses
// Graphviz's dot when installed and otherwise says how to install it (exit 1).
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { runXctl } from '../../pkg/cli/program.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';

let etcd: TestEtcd;
beforeAll(async () => {
  etcd = await startEtcd();
  const store = createEtcdStore(etcd.client());
  await store.create({ apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'topo-1' }, spec: { address: '198.18.0.11' } } as never);
  await store.create({ apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: { name: 'net-topo-1' }, spec: { node: 'topo-1', clusterNetwork: 'net', icc: true } } as never);
});
afterAll(async () => { await etcd?.stop(); });

async function xctl(args: string[]) {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, { out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => '', env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') } });
  return r;
}

describe('xctl topology', () => {
  it('text and dot show the stored hosts and subnets', async () => {
    const t = await xctl(['topology']);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toBe('node topo-1 198.18.0.11 [NotReady]\n  subnet <pending> bridge <pending> (net) [NotReady]\n');
    const d = await xctl(['topology', '-o', 'dot']);
    expect(d.out).toContain('underlay -- "node_topo-1";');
    expect((await xctl(['topology', '-o', 'png'])).code).toBe(2);
  });

  it('svg renders with dot, or names the package to install', async () => {
    const hasDot = (await execa('sh', ['-c', 'command -v dot'], { reject: false })).exitCode === 0;
    const r = await xctl(['topology', '-o', 'svg']);
    if (hasDot) {
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain('<svg');
    } else {
      expect(r.code).toBe(1);
      expect(r.err).toContain('apt-get install graphviz');
    }
  });
});
