// Two HostSubnets naming the same explicit bridge on one node, applied at the same instant
// (real etcd, the real controller): both can pass `xctl apply`'s check, and the younger can
// reach the controller first and be allocated. The controller, which owns the decision, gives
// the bridge to the older one when it arrives and marks the younger Ready=False, reason
// BridgeConflict, naming the older (the node's agent refuses it too, as a second line).
import { describe, expect, it } from 'vitest';
import { Keys } from '../../pkg/store/keys.js';
import { obj, useControllerFixture, eventually, uniquePrefix, statusOf } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix);

const cond = async (name: string, type: string) => statusOf(await fx.store.get('HostSubnet', name)).conditions?.find((x) => x.type === type);

/** A HostSubnet as `xctl apply` writes it, created at `at` (apply stamps the time before it commits). */
const hostSubnet = (name: string, at: Date) => JSON.stringify({
  apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet',
  metadata: { name, uid: `uid-${name}`, generation: 1, creationTimestamp: at.toISOString() },
  spec: { node: 'host-1', clusterNetwork: 'hand', bridge: 'brsame' },
});

describe('two HostSubnets naming one bridge on one node', () => {
  it('the younger, allocated first, is marked BridgeConflict once the older arrives; the older gets the bridge', async () => {
    await fx.store.applyAll([
      obj('ClusterNetwork', 'hand', { cidr: '10.61.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { pool: 'none' } } }),
      obj('Node', 'host-1', {}),
    ]);
    const keys = new Keys(prefix);
    const now = Date.now();
    // the younger commits first and is allocated with the bridge it names
    await fx.etcd.client().put(keys.object('HostSubnet', 'young')).value(hostSubnet('young', new Date(now)));
    await eventually(async () => (await cond('young', 'Allocated'))?.status === 'True', 'young allocated');
    expect(statusOf(await fx.store.get('HostSubnet', 'young')).bridge).toBe('brsame');
    // then the older, stamped a moment before it
    await fx.etcd.client().put(keys.object('HostSubnet', 'old')).value(hostSubnet('old', new Date(now - 1000)));
    await eventually(async () => (await cond('old', 'Allocated'))?.status === 'True', 'old allocated');
    expect(statusOf(await fx.store.get('HostSubnet', 'old')).bridge).toBe('brsame');
    const ready = await eventually(async () => { const r = await cond('young', 'Ready'); return r?.reason === 'BridgeConflict' ? r : undefined; }, 'young refused', 10_000);
    expect(ready.status).toBe('False');
    expect(ready.message).toMatch(/bridge brsame: HostSubnet "old" on node host-1 already uses it/);
    expect((await cond('young', 'Allocated'))?.status).toBe('False');
  });
});
