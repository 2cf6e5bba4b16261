// The controller's own status of an object, rewritten by hand with a value that does not decode
// (an admin's raw etcd put), is refused by the controller's cache. Its next status write compared
// the key as absent, which it is not: refused at every attempt, with every request batched into
// the same transaction, and the status never written again (the NIC's announced address, which
// its agent reads, stayed unreadable). The controller writes its own status over such a value,
// pinned to the revision it refused.
// Real etcd, an in-process controller.
import { describe, expect, it } from 'vitest';
import { Keys } from '../../pkg/store/keys.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);
const nic = (name: string) => obj('ContainerNic', name, { node: 'h1', container: name, ifName: 'eth1', network: { macvlanNet: 'lan' } });
const ipOf = async (name: string) => statusOf(await fx.store.get('ContainerNic', name)).ip as string | undefined;

describe('a controller status that does not decode', () => {
  it('is written over, and the requests batched with it are served', async () => {
    // Node h1 exists: a NIC on a node no Node has gets no address (controller/nic-node-gate.ts)
    await fx.store.applyAll([obj('Node', 'h1', {}), obj('MacvlanNet', 'lan', { subnet: '10.97.0.0/24', dockerIPAM: 'blocks', nodeSelector: { matchLabels: { none: 'x' } } }), nic('a')]);
    const ip = await eventually(() => ipOf('a'), 'a allocated');
    await fx.etcd.client().put(new Keys(prefix).controllerStatus('ContainerNic', 'a', 'h1')!).value('{"ip": 7');
    // NICs applied now share transactions with a's status write
    await fx.store.applyAll(['b', 'c', 'd'].map(nic));
    for (const n of ['b', 'c', 'd']) await eventually(() => ipOf(n), `${n} allocated`, 10_000);
    expect(await eventually(() => ipOf('a'), 'a\'s status written again', 10_000)).toBe(ip);
  });
});

describe('a HostSubnet status that does not decode, left where a HostSubnet is to be made', () => {
  it('is written over by the create, and the nodes joining with it get theirs', async () => {
    await fx.etcd.client().put(new Keys(prefix).status('HostSubnet', 'cn-x', { controller: true })).value('not json');
    await fx.store.applyAll([obj('ClusterNetwork', 'cn', { cidr: '10.98.0.0/16', hostPrefix: 24 }), ...['x', 'y', 'z'].map((n) => obj('Node', n, {}))]);
    for (const n of ['x', 'y', 'z']) await eventually(async () => statusOf(await fx.store.get('HostSubnet', `cn-${n}`)).subnet, `cn-${n} allocated`, 10_000);
  });
});
