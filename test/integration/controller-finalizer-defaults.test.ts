// The controller adds its finalizer to a MacvlanNet (and a ContainerNic) stored without one: an
// older xctl, a raw etcd write. Such an object may also lack the fields its schema fills in
// (hostShim: true, blockPrefix: 28, ...), and the controller plans with the object as decoded,
// defaults filled. The object it wrote back with the finalizer was kept in its cache as the raw
// JSON, without them: the next look at the MacvlanNet read hostShim as unset and released every
// node's shim address (and planned blocks with no blockPrefix) until the object changed again.
// Real etcd, an in-process controller; the objects are written to etcd directly.
import { describe, expect, it } from 'vitest';
import { Keys } from '../../pkg/store/keys.js';
import { IpamKeys, type Claim } from '../../pkg/ipam/keys.js';
import { API_VERSION } from '../../pkg/api/index.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture, type Status } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);
const keys = new Keys(prefix);

const shims = async () => {
  const kvs = await fx.etcd.client().getAll().prefix(new IpamKeys(prefix).space('macvlannets', 'lan', 'addresses')).strings();
  return Object.values(kvs).map((v) => JSON.parse(v) as Claim).filter((c) => c.role === 'shim').map((c) => c.ip);
};
const part = async () => ((statusOf(await fx.store.get('MacvlanNet', 'lan')).nodes as Status[] | undefined) ?? []).find((n) => n.name === 'host-1');

describe('a MacvlanNet written without its finalizer or the fields its schema fills in', () => {
  it('keeps its node\'s shim address once the controller has added the finalizer', async () => {
    await fx.store.applyAll([obj('Node', 'host-1', { interface: 'eth0' })]);
    const raw = { apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'lan', uid: 'lan-uid', generation: 1, creationTimestamp: new Date().toISOString() }, spec: { subnet: '10.95.0.0/24', ipRange: '10.95.0.128/25' } };
    await fx.etcd.client().put(keys.object('MacvlanNet', 'lan')).value(JSON.stringify(raw));
    await eventually(async () => (await fx.store.get('MacvlanNet', 'lan'))?.metadata.finalizers?.length, 'the finalizer added');
    const shim = await eventually(async () => (await part())?.shimAddress as string | undefined, 'host-1 has its shim');
    expect(await shims()).toEqual([shim]);
    // anything that makes the controller look at the MacvlanNet again: a NIC allocated on it
    await fx.store.applyAll([obj('ContainerNic', 'a', { node: 'host-1', container: 'a', ifName: 'eth1', network: { macvlanNet: 'lan' } })]);
    await eventually(async () => statusOf(await fx.store.get('ContainerNic', 'a')).ip, 'the NIC allocated', 10_000);
    // the MacvlanNet is looked at again 1 s after the NIC's allocation: the shim stays through it
    for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
      expect({ status: (await part())?.shimAddress, claims: await shims() }).toEqual({ status: shim, claims: [shim] });
    }
  });
});
