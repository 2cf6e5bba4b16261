// The merged status a user reads (`xctl get -o wide` REASON, `wait`'s timeout message,
// `describe`): a node's Ready that only waits for the controller (NoAddress, NotAllocated) used
// to hide the controller's reason for not allocating. Found in the lab: a ContainerNic on
// `clusterNetwork: defualt` on a running node showed `NoAddress: waiting for the controller to
// allocate an address` everywhere but in describe's Allocated row, while the controller's
// Ready said `InvalidSpec: ClusterNetwork "defualt" does not exist (did you mean "default"?)`.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type AnyObject } from '../../pkg/api/index.js';
import { hiddenNodeConditions, withStatus } from '../../pkg/store/merge.js';

const t = '2026-12-05T00:00:00Z';
const nic = { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: { name: 'n' }, spec: { node: 'host-1', container: 'test', ifName: 'eth3', network: { clusterNetwork: 'defualt' } } } as AnyObject;
const hs = { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'h' }, spec: { node: 'host-1', clusterNetwork: 'default', subnet: '10.76.1.0/24', icc: true } } as AnyObject;
const why = 'ClusterNetwork "defualt" does not exist (did you mean "default"?)';
const refused = (reason: string, message = why) => ({ conditions: [
  { type: 'Allocated', status: 'False' as const, reason, message, lastTransitionTime: t },
  { type: 'Ready', status: 'False' as const, reason, message, lastTransitionTime: t },
] });
const nodeSays = (reason: string, status: 'True' | 'False' = 'False') => new Map([['host-1', { conditions: [{ type: 'Ready', status, reason, message: 'waiting for the controller to allocate an address', lastTransitionTime: t }] }]]);
const ready = (o: AnyObject) => (o.status as { conditions: Array<{ type: string; reason?: string; message?: string }> }).conditions.find((c) => c.type === 'Ready');

describe('a node waiting for a controller that refused', () => {
  it('shows the controller\'s Ready (its reason and message) over the node\'s NoAddress', () => {
    const r = ready(withStatus(nic, refused('InvalidSpec'), nodeSays('NoAddress')));
    expect(r?.reason).toBe('InvalidSpec');
    expect(r?.message).toBe(why);
  });

  it('and over a HostSubnet node\'s NotAllocated', () => {
    expect(ready(withStatus(hs, refused('SubnetConflict', 'overlaps default-host-2'), nodeSays('NotAllocated')))?.reason).toBe('SubnetConflict');
  });

  it('describe still shows the node\'s own row', () => {
    expect(hiddenNodeConditions(nic, refused('PoolExhausted'), nodeSays('NoAddress'))?.conditions.map((c) => c.reason)).toEqual(['NoAddress']);
  });

  it('the node\'s report wins otherwise: allocated, or another reason of the node', () => {
    const allocated = { conditions: [
      { type: 'Allocated', status: 'True' as const, reason: 'Allocated', lastTransitionTime: t },
      { type: 'Ready', status: 'False' as const, reason: 'WaitingForAgent', lastTransitionTime: t },
    ] };
    expect(ready(withStatus(nic, allocated, nodeSays('NoAddress')))?.reason).toBe('NoAddress');
    expect(ready(withStatus(nic, refused('InvalidSpec'), nodeSays('ContainerNotFound')))?.reason).toBe('ContainerNotFound');
    expect(hiddenNodeConditions(nic, allocated, nodeSays('NoAddress'))).toBeUndefined();
  });
});
