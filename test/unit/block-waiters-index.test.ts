// A block freed queues the HostSubnets that wait for one (block-waiters.ts). Frees come in
// bursts, each heard in the cache's listener: a node pool of 500 deleted frees 500 blocks per
// network, and a scan of every HostSubnet per free (2,000 at 1,000 nodes) made that burst
// quadratic. The waiting and pinned HostSubnets are filed by network as their objects and
// statuses change (Model.index); these checks run on a Model over an in-memory cache whose
// every HostSubnet scan throws.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type ContainerNic, type HostSubnet, type MacvlanNet } from '../../pkg/api/index.js';
import { effectsOfChange, type ChangeScope } from '../../pkg/controller/events.js';
import type { Model } from '../../pkg/controller/model.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { meta, modelFixture } from './model-fixture.js';

const condition = (status: string, reason: string) => ({ conditions: [{ type: 'Allocated', status, reason, message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z' }] });
const waits = condition('False', 'PoolExhausted');

/** The model, as the event mapping reads it, except that a scan of every HostSubnet throws. */
function scanning(model: Model): ChangeScope {
  const scope = Object.create(model) as Model;
  scope.objects = (<T extends ContainerNic | MacvlanNet | HostSubnet>(kind: T['kind']) => {
    if (kind === 'HostSubnet') throw new Error('every HostSubnet scanned for one block freed');
    return model.objects<T>(kind);
  }) as Model['objects'];
  return scope;
}

describe('a block freed, with HostSubnets filed as their statuses say', () => {
  it('queues the ones of its network waiting PoolExhausted and the pins it overlaps, without a scan of every HostSubnet', () => {
    const { model, seed, drop } = modelFixture();
    const hsKey = (name: string) => model.keys.object('HostSubnet', name);
    const statusKey = (name: string) => model.keys.status('HostSubnet', name, { controller: true });
    const hostSubnet = (name: string, clusterNetwork: string, subnet?: string) =>
      seed(hsKey(name), { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta(name), spec: { node: name, clusterNetwork, ...(subnet ? { subnet } : {}) } });
    seed(model.keys.object('ClusterNetwork', 'c'), { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta('c'), spec: { cidr: '10.76.0.0/16', hostPrefix: 24 } });
    for (const [name, cn] of [['c-wait', 'c'], ['c-fine', 'c'], ['c-invalid', 'c'], ['c-garbled', 'c'], ['d-wait', 'd']]) hostSubnet(name, cn);
    hostSubnet('c-pin', 'c', '10.76.5.128/25');
    hostSubnet('c-apart', 'c', '10.76.6.0/24');
    seed(statusKey('c-wait'), waits);
    seed(statusKey('c-fine'), condition('True', 'Allocated'));
    seed(statusKey('c-invalid'), condition('False', 'InvalidSpec'));
    seed(statusKey('c-garbled'), { conditions: 'x' });
    seed(statusKey('d-wait'), waits);
    // its status heard before its object (two watches, no order between them)
    seed(statusKey('c-late'), waits);
    hostSubnet('c-late', 'c');

    const claim = model.ipam.claim('clusternetworks', 'c', 'blocks', parseIPv4('10.76.5.0'));
    const prev = { key: claim, value: JSON.stringify({ owner: { kind: 'HostSubnet', name: 'gone', uid: 'u' }, role: 'hostsubnet', cidr: '10.76.5.0/24' }), createRevision: '1', modRevision: '2', lease: '0' };
    const queued = () => effectsOfChange({ key: claim, prev, local: false }, scanning(model)).keys.sort();
    expect(queued()).toEqual(['HostSubnet/c-late', 'HostSubnet/c-pin', 'HostSubnet/c-wait']);
    // a claim that did not decode may have held any block: every pin of the network too
    expect(effectsOfChange({ key: claim, local: false }, scanning(model)).keys.sort()).toEqual(['HostSubnet/c-apart', 'HostSubnet/c-late', 'HostSubnet/c-pin', 'HostSubnet/c-wait']);

    // given a block: no longer waiting; deleted with its status: gone from the index; unpinned: no pin
    seed(statusKey('c-wait'), condition('True', 'Allocated'));
    drop(hsKey('c-late'));
    drop(statusKey('c-late'));
    hostSubnet('c-pin', 'c');
    expect(queued()).toEqual([]);
    seed(statusKey('c-fine'), waits);
    expect(queued()).toEqual(['HostSubnet/c-fine']);
  });
});
