// When the agent takes a NIC out of its container: only once the controller has released its
// address (Allocated False, no ip), never on a status it has not written yet.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type ContainerNic } from '../../pkg/api/index.js';
import { addressReleased } from '../../pkg/agent/reconcilers/nic-namespace.js';

const nic = (status?: Record<string, unknown>) => ({
  apiVersion: API_VERSION, kind: 'ContainerNic', metadata: { name: 'n' },
  spec: { node: 'host-1', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'default' } }, ...(status ? { status } : {}),
}) as ContainerNic;
const allocated = (s: 'True' | 'False') => [{ type: 'Allocated', status: s, reason: s === 'True' ? 'Allocated' : 'InvalidSpec', message: '', lastTransitionTime: '2026-12-03T00:00:00Z' }];

describe('addressReleased', () => {
  it('is true only for a status with Allocated False and no ip', () => {
    expect(addressReleased(nic({ conditions: allocated('False') }))).toBe(true);
    expect(addressReleased(nic())).toBe(false);
    expect(addressReleased(nic({ conditions: [] }))).toBe(false);
    expect(addressReleased(nic({ ip: '10.76.1.2', conditions: allocated('False') }))).toBe(false);
    expect(addressReleased(nic({ conditions: allocated('True') }))).toBe(false);
  });
});
