// `xctl get -o wide` says why an object is not ready: the Ready condition's reason, last column.
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
