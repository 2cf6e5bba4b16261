// xctl commands that name an object whose own key does not decode (real etcd) say so, as `get`
// does, instead of taking it for absent: `wait --for delete` does not call it deleted (and
// does once its key is deleted), `label` does not say "not found" (exit 1, not 4), `diff`
// does not say "(does not exist)" of an object apply writes over, and `delete` of a network,
// Node or HostSubnet in use is refused as for one that decodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdMetric, startEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { Keys } from '../../pkg/store/keys.js';
import { runXctl } from '../../pkg/cli/program.js';
import { eventually, obj } from './helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd(); });
afterAll(async () => { await etcd?.stop(); });
const keys = new Keys();
/** etcd's own count of open watchers */
const watchers = () => etcdMetric(etcd.endpoints[0], 'etcd_debugging_mvcc_watcher_total');

async function xctl(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, {
    out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => stdin,
    env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') },
  });
  return r;
}

const garble = (kind: 'ClusterNetwork' | 'Node' | 'HostSubnet', name: string) => etcd.client().put(keys.object(kind, name)).value('{}');
const said = (kind: string, name: string) => `error: ${kind} "${name}" does not decode (above); apply a good one over it or delete it\n`;

describe('xctl and an object whose own key does not decode', () => {
  it('wait --for delete does not call it deleted while its key is there', async () => {
    await garble('ClusterNetwork', 'junk1');
    const r = await xctl(['wait', 'cn', 'junk1', '--for', 'delete', '--timeout', '1s']);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).not.toContain('deleted');
    expect(r.err).toContain('waiting for clusternetwork/junk1 to reach deletion; its key does not decode (xctl get names it)');
  });

  it('wait --for delete ends, "deleted", when the key that never decoded is deleted while it waits', async () => {
    await garble('ClusterNetwork', 'junk2');
    const before = await watchers();
    const waiting = xctl(['wait', 'cn', 'junk2', '--for', 'delete', '--timeout', '20s']);
    // the wait watches once it has read the key (wait.ts): deleted after that, only its watch
    // can tell (deleted before, its read would find it gone, and the wiring would go untested)
    await eventually(async () => (await watchers()) > before, 'the wait watches', 10_000);
    await etcd.client().delete().key(keys.object('ClusterNetwork', 'junk2'));
    const r = await waiting;
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('clusternetwork/junk2 deleted\n');
  });

  it('label names it as not decoding, exit 1 (not "not found", 4), and labels the others', async () => {
    await createEtcdStore(etcd.client(), '/xnet').applyAll([obj('Node', 'good3', {})]);
    await garble('Node', 'junk3');
    const r = await xctl(['label', 'node', 'junk3', 'good3', 'rack=r1']);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/^warning: skipped \/xnet\/registry\/objects\/nodes\/junk3: /m);
    expect(r.err).toContain(said('Node', 'junk3'));
    expect(r.err).not.toContain('not found');
    expect(r.out).toBe('node/good3 labeled\n');
    const missing = await xctl(['label', 'node', 'nope3', 'rack=r1']);
    expect(missing.code).toBe(4);
    expect(missing.err).toContain('error: Node "nope3" not found\n');
  });

  it('diff -f shows the manifest over it as over a live object that does not decode, not one that does not exist', async () => {
    await garble('ClusterNetwork', 'junk4');
    const manifest = 'apiVersion: xnet.io/v1alpha1\nkind: ClusterNetwork\nmetadata:\n  name: junk4\nspec:\n  cidr: 10.44.0.0/16\n  hostPrefix: 24\n';
    const r = await xctl(['diff', '-f', '-'], manifest);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain('--- clusternetwork/junk4 (live, does not decode: apply writes over it)\n');
    expect(r.err).toMatch(/^warning: skipped \/xnet\/registry\/objects\/clusternetworks\/junk4: /m);
    const absent = await xctl(['diff', '-f', '-'], manifest.replace('junk4', 'new4'));
    expect(absent.out).toContain('--- clusternetwork/new4 (does not exist)\n');
  });

  it('delete of a network, Node or HostSubnet in use is refused (exit 3) though its key does not decode: its NICs are told by its name', async () => {
    const store = createEtcdStore(etcd.client(), '/xnet');
    const nicOn = (name: string, node: string) => ({ ...obj('ContainerNic', name, { node, container: `c-${name}`, ifName: 'eth1', network: { clusterNetwork: 'junknet5' } }) });
    await store.applyAll([obj('ClusterNetwork', 'junknet5', { cidr: '10.55.0.0/16', hostPrefix: 24 }), obj('Node', 'junknode5', {}),
      obj('HostSubnet', 'junknet5-junknode5', { node: 'junknode5', clusterNetwork: 'junknet5' }), nicOn('nic5', 'junknode5')]);
    // the controller's word that nic5 is on that HostSubnet (no controller runs here)
    await store.writeStatus('ContainerNic', 'nic5', { controller: true }, { hostSubnet: 'junknet5-junknode5' });
    for (const [kind, name] of [['ClusterNetwork', 'junknet5'], ['Node', 'junknode5'], ['HostSubnet', 'junknet5-junknode5']] as const) {
      await garble(kind, name);
      const r = await xctl(['delete', kind.toLowerCase(), name]);
      expect(r.code, `${kind}: ${r.out}${r.err}`).toBe(3);
      expect(r.err).toContain(`error: conflict: ${kind.toLowerCase()}/${name} is in use by 1 ContainerNic (nic5)`);
      expect(await etcd.client().get(keys.object(kind, name)).string()).toBe('{}');
    }
    // with --force it goes, as one that decodes does
    const forced = await xctl(['delete', 'cn', 'junknet5', '--force']);
    expect(forced.code, forced.err).toBe(0);
    expect(await etcd.client().get(keys.object('ClusterNetwork', 'junknet5')).string()).toBeNull();
  });
});
