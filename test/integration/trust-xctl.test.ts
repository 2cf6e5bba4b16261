// xctl reading keys written around it (real etcd): `get` lists every good object and prints
// one stderr line per key that does not decode, exit 0; `ipam check` counts a claim that does
// not decode as a problem (exit 1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { runXctl } from '../../pkg/cli/program.js';
import { obj } from './helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });

async function xctl(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, {
    out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => '',
    env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') },
  });
  return r;
}

describe('xctl and keys that do not decode', () => {
  it('get lists the good objects and names each bad key on stderr, exit 0', async () => {
    const store = createEtcdStore(etcd.client(), '/xnet');
    await store.applyAll([obj('ContainerNic', 'good', { node: 'host-1', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'default' } })]);
    await etcd.client().put('/xnet/registry/objects/containernics/bad').value('not json');
    await etcd.client().put('/xnet/registry/objects/containernics/arr').value('[1,2]');
    const r = await xctl(['get', 'nic']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('good');
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(r.err).toContain('/xnet/registry/objects/containernics/bad');
    expect(r.err).toContain('/xnet/registry/objects/containernics/arr');
    await store.close();
  });

  it('ipam check counts a claim that does not decode as a problem', async () => {
    await etcd.client().put('/xnet/ipam/clusternetworks/default/addresses/010.076.001.009').value('{"owner":"me"}');
    const r = await xctl(['ipam', 'check']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/010\.076\.001\.009: the claim does not decode/);
  });
});
