// A HostSubnet edit that claims no block (its bridge, gateway or dockerRange) is no allocation.
// The controller rewrote the status for it and counted it as one: an `Allocated` "subnet
// allocated" event (seen in the lab: count 7 on default-host-2 after a few bridge and
// dockerRange edits of seed000.yaml, for the one 10.76.2.0/24 it was given once) and one more
// xnet_allocations_total{kind="HostSubnet",result="allocated"}, which docs/metrics.md counts as
// subnets allocated. Real etcd, the real controller.
import { describe, expect, it } from 'vitest';
import { listEvents } from '../../pkg/events/read.js';
import { allocations } from '../../pkg/metrics/metrics.js';
import { obj, useControllerFixture, eventually, uniquePrefix, statusOf } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);

const allocatedEvents = async (name: string) => (await listEvents(fx.etcd.client(), prefix, { kind: 'HostSubnet', name })).items.filter((e) => e.reason === 'Allocated');
const hsAllocations = async () => (await allocations.get()).values.find((v) => v.labels.kind === 'HostSubnet' && v.labels.result === 'allocated')?.value ?? 0;
const pinned = (name: string, third: number, bridge: string) => obj('HostSubnet', name, { node: 'host-1', clusterNetwork: 'edits', subnet: `10.62.${third}.0/24`, bridge });

describe('a HostSubnet edit that claims no block', () => {
  it('records no Allocated event and counts no allocation; a subnet edit still does', async () => {
    // the selector matches no node: the controller makes no HostSubnet of its own beside these
    await fx.store.applyAll([obj('ClusterNetwork', 'edits', { cidr: '10.62.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { pool: 'none' } } }), obj('Node', 'host-1', {}), pinned('pin', 2, 'bra')]);
    await eventually(async () => (await allocatedEvents('pin')).length === 1, 'the first Allocated event');
    const before = await hsAllocations();
    await fx.store.applyAll([pinned('pin', 2, 'brb')]);
    await eventually(async () => statusOf(await fx.store.get('HostSubnet', 'pin')).bridge === 'brb', 'the bridge edit in the status');
    // a later allocation, recorded after the edit's by the controller's one ordered recorder
    await fx.store.applyAll([pinned('other', 3, 'brc')]);
    await eventually(async () => (await allocatedEvents('other')).length === 1, 'the other HostSubnet allocated');
    expect((await allocatedEvents('pin')).map((e) => e.count)).toEqual([1]);
    expect(await hsAllocations()).toBe(before + 1);
    // a subnet moved is an allocation
    await fx.store.applyAll([pinned('pin', 4, 'brb')]);
    await eventually(async () => (await allocatedEvents('pin'))[0]?.count === 2, 'the subnet edit allocated');
  });
});
