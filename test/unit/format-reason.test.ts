// `xctl get` READY and `-o wide`'s REASON: the Ready condition, and whether the object is being deleted.
import { describe, expect, it } from 'vitest';
import { tableHeader, tableRow } from '../../pkg/cli/format.js';
import type { AnyObject } from '../../pkg/api/types.js';

const nic = (status: Record<string, unknown> | undefined) => ({
  apiVersion: 'xnet.io/v1alpha1', kind: 'ContainerNic', metadata: { name: 'web-eth1' },
  spec: { node: 'host-1', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'pods' }, defaultRoute: false },
  ...(status ? { status } : {}),
}) as AnyObject;

describe('get -o wide REASON column', () => {
  it('ends every kind\'s wide header', () => {
    for (const k of ['ClusterNetwork', 'Node', 'HostSubnet', 'ContainerNic', 'MacvlanNet'] as const) {
      expect(tableHeader(k, true).at(-1)).toBe('REASON');
      expect(tableHeader(k, false)).not.toContain('REASON');
    }
  });
  it('shows the Ready condition\'s reason, <none> without one', () => {
    const notFound = nic({ conditions: [{ type: 'Allocated', status: 'True', reason: 'Allocated' }, { type: 'Ready', status: 'False', reason: 'ContainerNotFound', message: 'no container "web" on host-1' }] });
    expect(tableRow(notFound, true).at(-1)).toBe('ContainerNotFound');
    expect(tableRow(nic(undefined), true).at(-1)).toBe('<none>');
    expect(tableRow(notFound, false)).not.toContain('ContainerNotFound');
  });
  it('names the time of a Node\'s last report for what it is (not a heartbeat: liveness is the lease, READY)', () => {
    expect(tableHeader('Node', true)).toEqual(['NAME', 'ADDRESS', 'READY', 'AGE', 'INTERFACE', 'AGENT', 'REPORTED', 'LABELS', 'REASON']);
  });
});

describe('get READY column', () => {
  const deleting = (o: AnyObject) => ({ ...o, metadata: { ...o.metadata, deletionTimestamp: '2026-01-10T00:00:00Z' } }) as AnyObject;
  const ready = (o: AnyObject) => tableRow(o, false)[5];
  it('is Unknown until someone reports Ready, the condition\'s status after', () => {
    expect(ready(nic(undefined))).toBe('Unknown');
    expect(ready(nic({ conditions: [{ type: 'Ready', status: 'False', reason: 'ContainerNotFound' }] }))).toBe('False');
  });
  it('marks an object being deleted, also before any Ready condition (docs/xctl.md, get)', () => {
    expect(ready(deleting(nic(undefined)))).toBe('Unknown (deleting)');
    expect(ready(deleting(nic({ conditions: [{ type: 'Allocated', status: 'True', reason: 'Allocated' }] })))).toBe('Unknown (deleting)');
    expect(ready(deleting(nic({ conditions: [{ type: 'Ready', status: 'False', reason: 'Terminating' }] })))).toBe('False (deleting)');
  });
});
