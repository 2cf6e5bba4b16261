// Deleting objects others depend on, as `xctl delete` does it (the store's deleteAll), with a
// controller running: nothing keeps an address in a block that was freed, nothing of the old
// incarnation of a name survives into a new one, and `xctl ipam check` stays clean.
import { describe, it, expect } from 'vitest';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { parseCidr, parseIPv4 } from '../../pkg/ip/ipv4.js';
import { cidrInterval, contains } from '../../pkg/ipam/ranges.js';
import { obj, eventually, startController, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix, { addressCooldownMs: 0, gcIntervalMs: 1000 });

const inside = (cidr: string, ip: string) => contains([cidrInterval(parseCidr(cidr))], parseIPv4(ip));
const cleanCheck = async () => {
  const r = await eventually(async () => { const r = await ipamCheck(fx.etcd.client(), prefix); return r.problems === 0 ? r : undefined; }, 'ipam check clean', 10_000)
    .catch(async () => ipamCheck(fx.etcd.client(), prefix));
  expect(r.problems, r.text).toBe(0);
};

describe('deleting what others depend on', () => {
  it('a hand-written HostSubnet deleted under its NICs: they move to the HostSubnet made in its place', async () => {
    const { store } = fx;
    await store.applyAll([
      obj('ClusterNetwork', 'hsdel', { cidr: '10.61.0.0/16', hostPrefix: 24 }),
      obj('HostSubnet', 'hand-1', { node: 'hd-1', clusterNetwork: 'hsdel', subnet: '10.61.9.0/24' }),
      obj('Node', 'hd-1', {}),
    ]);
    // the NIC comes once its HostSubnet is there: it never waited for one
    await eventually(async () => statusOf(await store.get('HostSubnet', 'hand-1')).subnet || undefined, 'hand-1 allocated');
    await store.applyAll([
      obj('ContainerNic', 'hd-eth1', { node: 'hd-1', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'hsdel' } }),
    ]);
    await eventually(async () => statusOf(await store.get('ContainerNic', 'hd-eth1')).ip === '10.61.9.2' || undefined, 'NIC in hand-1');
    expect(await store.delete('HostSubnet', 'hand-1')).toBe(true);
    const made = await eventually(async () => statusOf(await store.get('HostSubnet', 'hsdel-hd-1')).subnet as string | undefined, 'a HostSubnet made for hd-1 in its place');
    const nic = await eventually(async () => {
      const s = statusOf(await store.get('ContainerNic', 'hd-eth1'));
      return typeof s.ip === 'string' && inside(made, s.ip) ? s : undefined;
    }, `the NIC's address moved into ${made}`, 10_000);
    expect(nic.hostSubnet).toBe('hsdel-hd-1');
    await cleanCheck();
  });
});

describe('node-index keys of a NIC deleted around xctl', () => {
  it('the garbage pass deletes its object copy and status in the node index (the agent keeps a NIC while the copy is there)', async () => {
    const { store, etcd } = fx;
    const client = etcd.client();
    await store.applyAll([
      obj('ClusterNetwork', 'ixdel', { cidr: '10.62.0.0/16', hostPrefix: 24 }),
      obj('Node', 'ix-1', {}),
      obj('ContainerNic', 'ix-eth1', { node: 'ix-1', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'ixdel' } }),
      obj('ContainerNic', 'ix-keep', { node: 'ix-1', container: 'c', ifName: 'eth2', network: { clusterNetwork: 'ixdel' } }),
    ]);
    for (const n of ['ix-eth1', 'ix-keep']) await eventually(async () => statusOf(await store.get('ContainerNic', n)).ip || undefined, `${n} allocated`);
    const objKey = store.keys.object('ContainerNic', 'ix-eth1');
    const copy = store.keys.indexed('ix-1', objKey);
    const indexStatus = store.keys.controllerStatus('ContainerNic', 'ix-eth1', 'ix-1')!;
    const keep = [store.keys.indexed('ix-1', store.keys.object('ContainerNic', 'ix-keep')), store.keys.controllerStatus('ContainerNic', 'ix-keep', 'ix-1')!];
    for (const k of [copy, indexStatus, ...keep]) expect(await client.get(k).string(), k).not.toBeNull();
    // what `etcdctl del` of the object key (or a tool that knows no index) does
    // in one transaction with a check that the copy is still there: the controller's garbage
    // pass (every second here) could delete it before a read sent after the delete
    const del = await client.if(copy, 'Version', '>', 0).then(client.delete().key(objKey)).commit();
    expect(del.succeeded, 'the object key deleted while its index copy was there').toBe(true);
    expect(del.responses[0].response_delete_range?.deleted).toBe('1');
    await eventually(async () => (await client.get(copy).string()) === null && (await client.get(indexStatus).string()) === null || undefined, 'the index copy and status of the gone NIC deleted', 15_000);
    for (const k of keep) expect(await client.get(k).string(), k).not.toBeNull();
    await cleanCheck();
  });
});

describe('controller statuses of objects deleted around xctl', () => {
  it('the garbage pass deletes them (an object applied again under the name would show them, and agents act on a HostSubnet\'s and a MacvlanNet\'s)', async () => {
    const { store, etcd } = fx;
    const client = etcd.client();
    await store.applyAll([
      obj('ClusterNetwork', 'stdel', { cidr: '10.63.0.0/16', hostPrefix: 24 }),
      obj('HostSubnet', 'st-hand', { node: 'st-1', clusterNetwork: 'stdel', subnet: '10.63.7.0/24' }),
      obj('MacvlanNet', 'st-mvn', { subnet: '10.64.0.0/24', nodeSelector: { matchLabels: { mvn: 'st' } } }),
      obj('Node', 'st-1', {}, { mvn: 'st' }),
    ]);
    const st = (kind: 'HostSubnet' | 'MacvlanNet' | 'ClusterNetwork', name: string) => store.keys.status(kind, name, { controller: true });
    await eventually(async () => statusOf(await store.get('HostSubnet', 'st-hand')).subnet === '10.63.7.0/24' || undefined, 'st-hand allocated');
    await eventually(async () => (statusOf(await store.get('MacvlanNet', 'st-mvn')).nodes as unknown[] | undefined)?.length === 1 || undefined, 'st-mvn planned');
    const gone = [st('HostSubnet', 'st-hand'), st('MacvlanNet', 'st-mvn')];
    for (const k of gone) expect(await client.get(k).string(), k).not.toBeNull();
    // what `etcdctl del` of the object keys does
    await client.delete().key(store.keys.object('HostSubnet', 'st-hand'));
    await client.delete().key(store.keys.object('MacvlanNet', 'st-mvn'));
    await eventually(async () => (await Promise.all(gone.map((k) => client.get(k).string()))).every((v) => v === null) || undefined, 'the controller statuses of the gone objects deleted', 15_000);
    expect(await client.get(st('ClusterNetwork', 'stdel')).string()).not.toBeNull();
    await cleanCheck();
  });
});

describe('deleted and applied again at once (a new uid)', () => {
  it('a MacvlanNet with a NIC on it: the new one plans its node, the NIC has an address again, nothing of the old uid is left', async () => {
    const { store, etcd } = fx;
    const mvn = obj('MacvlanNet', 'again-mvn', { subnet: '10.67.0.0/24', nodeSelector: { matchLabels: { again: 'yes' } } });
    await store.applyAll([
      mvn, obj('Node', 'again-1', {}, { again: 'yes' }),
      obj('ContainerNic', 'again-eth1', { node: 'again-1', container: 'c', ifName: 'eth1', network: { macvlanNet: 'again-mvn' } }),
    ]);
    await eventually(async () => statusOf(await store.get('ContainerNic', 'again-eth1')).ip || undefined, 'NIC allocated');
    const old = (await store.get('MacvlanNet', 'again-mvn'))!.metadata.uid;
    expect(await store.delete('MacvlanNet', 'again-mvn')).toBe(true);
    // no agent reports on it: nothing holds its network, its delete finishes at once
    await eventually(async () => (await store.get('MacvlanNet', 'again-mvn')) === undefined || undefined, 'the old MacvlanNet gone');
    await store.applyAll([mvn]);
    const now = (await store.get('MacvlanNet', 'again-mvn'))!.metadata.uid;
    expect(now).not.toBe(old);
    await eventually(async () => (statusOf(await store.get('MacvlanNet', 'again-mvn')).nodes as unknown[] | undefined)?.length === 1 || undefined, 'the new MacvlanNet planned');
    await eventually(async () => statusOf(await store.get('ContainerNic', 'again-eth1')).ip || undefined, 'NIC has an address again', 15_000);
    const claims = Object.values(await etcd.client().getAll().prefix(`${prefix}/ipam/macvlannets/again-mvn/`).strings());
    expect(claims.filter((v) => v.includes(old!))).toEqual([]);
    await cleanCheck();
  });

  it('a ClusterNetwork with a NIC on it: the node gets a HostSubnet of the new one, the NIC an address in it', async () => {
    const { store, etcd } = fx;
    const cn = obj('ClusterNetwork', 'again-cn', { cidr: '10.68.0.0/16', hostPrefix: 24 });
    await store.applyAll([
      cn, obj('Node', 'again-2', {}),
      obj('ContainerNic', 'again-eth2', { node: 'again-2', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'again-cn' } }),
    ]);
    await eventually(async () => statusOf(await store.get('ContainerNic', 'again-eth2')).ip || undefined, 'NIC allocated');
    const hsOld = (await store.get('HostSubnet', 'again-cn-again-2'))!.metadata.uid;
    expect(await store.delete('ClusterNetwork', 'again-cn')).toBe(true);
    await store.applyAll([cn]);
    const hs = await eventually(async () => { const h = await store.get('HostSubnet', 'again-cn-again-2'); return h && statusOf(h).subnet ? h : undefined; }, 'a HostSubnet on the new ClusterNetwork');
    const nic = await eventually(async () => { const s = statusOf(await store.get('ContainerNic', 'again-eth2')); return s.ip && inside(statusOf(hs).subnet as string, s.ip as string) ? s : undefined; }, 'NIC in it', 15_000);
    expect(nic.hostSubnet).toBe('again-cn-again-2');
    const claims = Object.values(await etcd.client().getAll().prefix(`${prefix}/ipam/clusternetworks/again-cn/`).strings());
    expect(claims.filter((v) => v.includes(hsOld!) && hs.metadata.uid !== hsOld)).toEqual([]);
    await cleanCheck();
  });
});

describe('deleting while no controller runs', () => {
  it('a NIC deleted and taken out by its agent while no controller ran goes, with its claim, when one starts; what owners deleted meanwhile held is freed', async () => {
    const { store, etcd } = fx;
    await store.applyAll([
      obj('ClusterNetwork', 'down-cn', { cidr: '10.69.0.0/16', hostPrefix: 24 }),
      obj('HostSubnet', 'down-hand', { node: 'down-1', clusterNetwork: 'down-cn', subnet: '10.69.9.0/24' }),
      obj('Node', 'down-1', {}),
      obj('ContainerNic', 'down-eth1', { node: 'down-1', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'down-cn' } }),
      obj('ContainerNic', 'down-eth2', { node: 'down-1', container: 'c', ifName: 'eth2', network: { clusterNetwork: 'down-cn' } }),
    ]);
    for (const n of ['down-eth1', 'down-eth2']) await eventually(async () => statusOf(await store.get('ContainerNic', n)).ip || undefined, `${n} allocated`);
    // the agent has reported the NIC: its address is on the wire
    await store.writeStatus('ContainerNic', 'down-eth1', { node: 'down-1' }, { conditions: [{ type: 'Ready', status: 'True', reason: 'Converged', message: 'in', lastTransitionTime: new Date().toISOString() }] });
    await fx.c.stop();
    await store.delete('ContainerNic', 'down-eth1');
    await store.delete('HostSubnet', 'down-hand');
    expect((await store.get('ContainerNic', 'down-eth1'))?.metadata.deletionTimestamp).toBeDefined();
    // the agent takes it out of the container and says so by deleting its report
    await store.deleteStatus('ContainerNic', 'down-eth1', { node: 'down-1' });
    fx.c = await startController(etcd.client(), prefix, { addressCooldownMs: 0, gcIntervalMs: 1000 });
    await eventually(async () => (await store.get('ContainerNic', 'down-eth1')) === undefined || undefined, 'down-eth1 gone', 15_000);
    const made = await eventually(async () => statusOf(await store.get('HostSubnet', 'down-cn-down-1')).subnet as string | undefined, 'a HostSubnet made in place of the deleted one');
    await eventually(async () => { const s = statusOf(await store.get('ContainerNic', 'down-eth2')); return typeof s.ip === 'string' && inside(made, s.ip) || undefined; }, 'down-eth2 moved into it', 15_000);
    await cleanCheck();
  });
});

describe('finalizers of others on a deleting NIC', () => {
  it('the controller releases the address and takes only its own finalizer; the NIC goes when the last one does', async () => {
    const { store, etcd } = fx;
    await store.applyAll([obj('ClusterNetwork', 'fin-cn', { cidr: '10.70.0.0/16', hostPrefix: 24 }), obj('Node', 'fin-1', {})]);
    // a program's finalizer next to xnet's (Store.create keeps what it is given, as kubectl create does)
    const nicObj = obj('ContainerNic', 'fin-eth1', { node: 'fin-1', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'fin-cn' } });
    await store.create({ ...nicObj, metadata: { ...nicObj.metadata, finalizers: ['xnet.io/address-in-use', 'example.com/backup'] } });
    await eventually(async () => statusOf(await store.get('ContainerNic', 'fin-eth1')).ip || undefined, 'NIC allocated');
    await store.delete('ContainerNic', 'fin-eth1');
    const claims = async () => Object.values(await etcd.client().getAll().prefix(`${prefix}/ipam/clusternetworks/fin-cn/addresses/`).strings()).length;
    // no agent ever reported on it: nothing holds the address
    await eventually(async () => (await claims()) === 0 || undefined, 'the address released', 10_000);
    const left = await store.get('ContainerNic', 'fin-eth1');
    expect(left?.metadata.deletionTimestamp).toBeDefined();
    expect(left?.metadata.finalizers).toEqual(['example.com/backup']);
    // its node's agent reads it from its index: the copy says the same
    const copy = await etcd.client().get(store.keys.indexed('fin-1', store.keys.object('ContainerNic', 'fin-eth1'))).string();
    expect(JSON.parse(copy!).metadata.finalizers).toEqual(['example.com/backup']);
    await store.update({ ...left!, metadata: { ...left!.metadata, finalizers: [] } });
    expect(await store.get('ContainerNic', 'fin-eth1')).toBeUndefined();
    await cleanCheck();
  });
});
