// The chaos runner's "settled" (bench/chaos/nic-lives.ts): a ContainerNic's Ready counts only
// when written for its container as it runs now. Fault 7 once counted a Ready left from before
// `docker restart` (same container id) as settled, while the NIC was half-way through being made.
import { describe, expect, it } from 'vitest';
import { staleNicReady } from '../../bench/chaos/nic-lives.js';
import type { AnyObject } from '../../pkg/api/index.js';

const ID = 'a'.repeat(64);
const started = Date.parse('2026-12-01T23:40:00.123456789Z');
const nic = (containerId: string | undefined, lastTransitionTime: string): AnyObject => ({
  apiVersion: 'xnet.io/v1', kind: 'ContainerNic', metadata: { name: 'host-1-side-eth1' },
  spec: { node: 'host-1', container: 'side', ifName: 'eth1', network: { clusterNetwork: 'default' } },
  status: { containerId, conditions: [{ type: 'Ready', status: 'True', reason: 'Converged', message: '', lastTransitionTime }] },
} as unknown as AnyObject);

describe('staleNicReady', () => {
  it('accepts a Ready that turned True after the running container started, for its id', () => {
    expect(staleNicReady(nic(ID, '2026-12-01T23:40:01.000Z'), { id: ID, startedAt: started })).toBeUndefined();
  });

  it('refuses a Ready from before the container\'s restart, though the id is the same', () => {
    expect(staleNicReady(nic(ID, '2026-12-01T23:30:00.000Z'), { id: ID, startedAt: started })).toMatch(/Ready since before side started/);
  });

  it('refuses a status written for another container of that name', () => {
    expect(staleNicReady(nic('b'.repeat(64), '2026-12-01T23:41:00.000Z'), { id: ID, startedAt: started })).toMatch(/status names container bbbbbbbbbbbb, side is aaaaaaaaaaaa/);
  });

  it('refuses a NIC whose container is not running, and a Ready without a transition time', () => {
    expect(staleNicReady(nic(ID, '2026-12-01T23:41:00.000Z'), undefined)).toMatch(/not running/);
    expect(staleNicReady(nic(ID, ''), { id: ID, startedAt: started })).toMatch(/Ready since before/);
  });
});
