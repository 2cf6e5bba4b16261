// A first apply passes through not-Ready conditions that only say the objects arrived in some
// order (a NIC before its ClusterNetwork, a NIC before its container starts): told as Normal
// events while young, a Warning once one reason persists past the grace, and a Warning at once on an
// object that was Ready (a working object lost something) or for what the user must act on.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTLE_GRACE_MS, SETTLING_REASONS, SettlingClock, WAITING_FOR_CONTAINER, mayTurnWarning, notReadyEventType } from '../../pkg/agent/settling.js';
import { NodeStatusReporter, notReady, ready } from '../../pkg/agent/context.js';
import { API_VERSION, type ContainerNic } from '../../pkg/api/index.js';
import type { EventRecorder } from '../../pkg/events/recorder.js';
import type { Store } from '../../pkg/store/index.js';

const facts = (reason: string, ageMs: number, wasReady = false) => ({ reason, sinceMs: 1_000, nowMs: 1_000 + ageMs, wasReady, graceMs: 15_000 });

describe('the type of the event of a not-Ready condition', () => {
  it('is Normal for an order-dependent reason while young, Warning once it persists past the grace', () => {
    for (const reason of ['ClusterNetworkMissing', 'BridgeMissing', 'BridgeNotReady', 'ContainerNotRunning']) {
      expect(notReadyEventType(facts(reason, 0)), reason).toBe('Normal');
      expect(notReadyEventType(facts(reason, 14_999)), reason).toBe('Normal');
      expect(notReadyEventType(facts(reason, 15_000)), reason).toBe('Warning');
    }
  });

  it('is Normal however long for a NIC never Ready whose container does not exist yet (it waits for it), a Warning once it was Ready', () => {
    expect(WAITING_FOR_CONTAINER.has('ContainerNotFound')).toBe(true);
    expect(SETTLING_REASONS.has('ContainerNotFound')).toBe(false);
    expect(notReadyEventType(facts('ContainerNotFound', 0))).toBe('Normal');
    expect(notReadyEventType(facts('ContainerNotFound', 3_600_000))).toBe('Normal');
    expect(notReadyEventType(facts('ContainerNotFound', 0, true))).toBe('Warning');
  });

  it('is a Warning at once on an object that was Ready, whatever the reason', () => {
    for (const reason of ['ContainerNotRunning', 'BridgeMissing', 'NoAddress']) expect(notReadyEventType(facts(reason, 0, true)), reason).toBe('Warning');
  });

  it('is a Warning at once for what the user must act on, and Normal while waiting for the controller however long', () => {
    for (const reason of ['InterfaceNameTaken', 'NetworkConflict', 'InvalidSpec', 'ParentMissing']) {
      expect(SETTLING_REASONS.has(reason)).toBe(false);
      expect(notReadyEventType(facts(reason, 0)), reason).toBe('Warning');
    }
    expect(notReadyEventType(facts('NoAddress', 3_600_000))).toBe('Normal');
  });

  it('is Normal for a NIC whose address its edited network no longer hands out (StaleAllocation), also one that was Ready, within the grace; a Warning once it persists', () => {
    expect(notReadyEventType(facts('StaleAllocation', 0, true))).toBe('Normal');
    expect(notReadyEventType(facts('StaleAllocation', 14_999, true))).toBe('Normal');
    expect(notReadyEventType(facts('StaleAllocation', 15_000, true))).toBe('Warning');
    expect(notReadyEventType(facts('StaleAllocation', 3_600_000))).toBe('Warning');
    expect(mayTurnWarning(facts('StaleAllocation', 0, true))).toBe(true);
  });

  it('has a grace longer than the agent queue\'s longest retry step and shorter than its resync', () => {
    expect(DEFAULT_SETTLE_GRACE_MS).toBeGreaterThan(10_000);
    expect(DEFAULT_SETTLE_GRACE_MS).toBeLessThan(30_000);
  });
});

describe('the agent\'s events of a young not-Ready condition', () => {
  afterEach(() => { vi.useRealTimers(); });

  function reporter() {
    vi.useFakeTimers();
    let t = 0;
    const recorded: string[] = [];
    const events = { record: async (_o: unknown, type: string, reason: string) => { recorded.push(`${type}/${reason}`); } } as unknown as EventRecorder;
    const store = { async writeStatus() {}, async deleteStatus() {} } as unknown as Store;
    const clock = new SettlingClock(1_000, () => t);
    const rep = new NodeStatusReporter(store, 'n1', events, undefined, clock);
    const pass = async (ms: number) => { t += ms; await vi.advanceTimersByTimeAsync(ms); };
    return { rep, recorded, clock, pass };
  }
  const nic = (uid = 'u1') => ({ apiVersion: API_VERSION, kind: 'ContainerNic', metadata: { name: 'n', uid, generation: 1 }, spec: {} }) as unknown as ContainerNic;
  const missing = notReady('ClusterNetworkMissing', 'ClusterNetwork "default" does not exist');

  it('is one Normal, then one Warning when it persists past the grace', async () => {
    const { rep, recorded, pass } = reporter();
    await rep.write('ContainerNic', nic(), {}, missing);
    expect(recorded).toEqual(['Normal/ClusterNetworkMissing']);
    await pass(900);
    expect(recorded).toEqual(['Normal/ClusterNetworkMissing']);
    await pass(200);
    await rep.write('ContainerNic', nic(), {}, missing);
    await pass(5_000);
    expect(recorded).toEqual(['Normal/ClusterNetworkMissing', 'Warning/ClusterNetworkMissing']);
  });

  it('is Normal only, when the object turns Ready within the grace; and nothing of it is kept', async () => {
    const { rep, recorded, clock, pass } = reporter();
    await rep.write('ContainerNic', nic(), {}, missing);
    await pass(300);
    await rep.write('ContainerNic', nic(), {}, notReady('BridgeMissing', 'bridge br01 does not exist'));
    await pass(300);
    await rep.write('ContainerNic', nic(), {}, ready('eth1 is in container web'));
    expect(clock.size).toBe(0);
    await pass(5_000);
    expect(recorded).toEqual(['Normal/ClusterNetworkMissing', 'Normal/BridgeMissing', 'Normal/Attached']);
    // Ready once: a container stopped later is trouble at once
    await rep.write('ContainerNic', nic(), {}, notReady('ContainerNotRunning', 'container web is not running'));
    expect(recorded.at(-1)).toBe('Warning/ContainerNotRunning');
  });

  it('counts the grace from when each reason began: a NIC that waited for its container is not warned about as Docker starts it', async () => {
    const { rep, recorded, pass } = reporter();
    await rep.write('ContainerNic', nic(), {}, notReady('ContainerNotFound', 'no container "web" on node n1'));
    await pass(1_500);
    // waiting for its container is Normal however long
    expect(recorded).toEqual(['Normal/ContainerNotFound']);
    // docker run: the container is made, then started a moment later
    await rep.write('ContainerNic', nic(), {}, notReady('ContainerNotRunning', 'container web is not running'));
    await pass(100);
    await rep.write('ContainerNic', nic(), {}, ready('eth1 is in container web'));
    await pass(5_000);
    expect(recorded).toEqual(['Normal/ContainerNotFound', 'Normal/ContainerNotRunning', 'Normal/Attached']);
    // Ready once: its container removed is trouble at once
    await rep.write('ContainerNic', nic(), {}, notReady('ContainerNotFound', 'no container "web" on node n1'));
    expect(recorded.at(-1)).toBe('Warning/ContainerNotFound');
  });

  it('a Ready HostSubnet whose ClusterNetwork went is told as settling (the controller removes it); a Ready NIC is warned at once', async () => {
    const { rep, recorded, pass } = reporter();
    const hs = { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'default-n1', uid: 'h1', generation: 1 }, spec: {} } as unknown as ContainerNic;
    await rep.write('HostSubnet', hs, {}, ready('bridge br01 is up'));
    await rep.write('HostSubnet', hs, {}, missing);
    expect(recorded).toEqual(['Normal/Ready', 'Normal/ClusterNetworkMissing']);
    // still there past the grace: no controller removed it
    await pass(1_100);
    await rep.write('HostSubnet', hs, {}, missing);
    await pass(5_000);
    expect(recorded).toEqual(['Normal/Ready', 'Normal/ClusterNetworkMissing', 'Warning/ClusterNetworkMissing']);
    await rep.write('ContainerNic', nic(), {}, ready('eth1 is in container web'));
    await rep.write('ContainerNic', nic(), {}, missing);
    expect(recorded.slice(3)).toEqual(['Normal/Attached', 'Warning/ClusterNetworkMissing']);
  });

  it('counts the grace anew for each incarnation, and forgets the objects gone', async () => {
    const { rep, recorded, clock, pass } = reporter();
    await rep.write('ContainerNic', nic('u1'), {}, missing);
    await pass(2_000);
    await rep.remove('ContainerNic', 'n');
    expect(clock.size).toBe(0);
    await rep.write('ContainerNic', nic('u2'), {}, missing);
    expect(recorded).toEqual(['Normal/ClusterNetworkMissing', 'Warning/ClusterNetworkMissing', 'Normal/ClusterNetworkMissing']);
    // a stopped agent looks no more
    rep.close();
    await pass(5_000);
    expect(recorded).toHaveLength(3);
  });
});
