// When the agent probes what the kernel can do again: on another interface, and every
// CAPABILITY_REPROBE_MS while a capability is missing; never while all are there.
import { describe, expect, it } from 'vitest';
import { NodeCapabilities, sameCapabilities, type Capabilities } from '../../pkg/agent/capabilities.js';
import { probeCapabilities } from '../../pkg/agent/node.js';
import { probeInterface } from '../../pkg/agent/heartbeat.js';
import { IpBatchError, type IpRunner } from '../../pkg/netlink/ip.js';

/** An `ip` whose probe batch ends with `err` (the clean-up batch succeeds); what it was asked. */
function ipFailing(err: Error | undefined) {
  const batches: string[][][] = [];
  const ip = { batch: async (lines: string[][]) => { batches.push(lines); if (batches.length === 1 && err) throw err; } } as unknown as IpRunner;
  return { ip, batches };
}
const refused = (lines: number[]) => Object.assign(new IpBatchError('IpCommandFailed', { kind: 'host' } as never, undefined, 'Error: Unknown device type.'), { failedLines: lines });

function probed(answers: Capabilities[]) {
  const calls: Array<string | undefined> = [];
  let t = 0;
  const caps = new NodeCapabilities(async (iface) => {
    calls.push(iface);
    const a = answers[Math.min(calls.length - 1, answers.length - 1)];
    if (!a) throw new Error('probe failed');
    return a;
  }, 1000, () => t);
  return { caps, calls, advance: (ms: number) => { t += ms; } };
}

describe('NodeCapabilities', () => {
  it('probes once while everything is there', async () => {
    const { caps, calls, advance } = probed([{ macvlan: true, vlan: true }]);
    expect(await caps.read('eth0')).toEqual({ found: { macvlan: true, vlan: true }, changed: false });
    advance(10_000);
    expect(await caps.read('eth0')).toEqual({ found: { macvlan: true, vlan: true }, changed: false });
    expect(calls).toEqual(['eth0']);
  });

  it('probes a missing capability again once the interval has passed, and says when it appeared', async () => {
    const { caps, calls, advance } = probed([{ macvlan: true, vlan: false }, { macvlan: true, vlan: false }, { macvlan: true, vlan: true }]);
    await caps.read('eth0');
    advance(999);
    expect((await caps.read('eth0')).changed).toBe(false);
    expect(calls).toHaveLength(1);
    advance(1);
    expect(await caps.read('eth0')).toEqual({ found: { macvlan: true, vlan: false }, changed: false });
    advance(1000);
    expect(await caps.read('eth0')).toEqual({ found: { macvlan: true, vlan: true }, changed: true });
    advance(10_000);
    await caps.read('eth0');
    expect(calls).toHaveLength(3);
  });

  it('probes again at once on another interface', async () => {
    const { caps, calls } = probed([{ macvlan: true, vlan: true }, { macvlan: false, vlan: false }]);
    await caps.read('eth0');
    expect(await caps.read('eth1')).toEqual({ found: { macvlan: false, vlan: false }, changed: true });
    expect(calls).toEqual(['eth0', 'eth1']);
  });

  it('keeps the last answer when a probe throws', async () => {
    const { caps, advance } = probed([{ macvlan: true, vlan: false }, undefined as unknown as Capabilities]);
    await caps.read('eth0');
    advance(1000);
    expect(await caps.read('eth0')).toEqual({ found: { macvlan: true, vlan: false }, changed: false });
  });

  it('keeps a capability found on the interface when a later probe (for a missing one) fails it', async () => {
    // a passthru macvlan holding the parent makes the macvlan probe fail; the kernel still has it
    const { caps, advance } = probed([{ macvlan: true, vlan: false }, { macvlan: false, vlan: false }, { macvlan: false, vlan: true }]);
    await caps.read('eth0');
    advance(1000);
    expect(await caps.read('eth0')).toEqual({ found: { macvlan: true, vlan: false }, changed: false });
    advance(1000);
    expect(await caps.read('eth0')).toEqual({ found: { macvlan: true, vlan: true }, changed: true });
  });

  it('tries again after the interval when the first probe gave no answer, and then says what it found', async () => {
    const { caps, calls, advance } = probed([undefined as unknown as Capabilities, { macvlan: true, vlan: true }]);
    expect(await caps.read('eth0')).toEqual({ found: {}, changed: false });
    await caps.read('eth0');
    expect(calls).toHaveLength(1);
    advance(1000);
    expect(await caps.read('eth0')).toEqual({ found: { macvlan: true, vlan: true }, changed: true });
  });

  it('probes without an answer in a row are made again 5 s, then 10 s, 20 s... later, at most a minute', async () => {
    let t = 0;
    let n = 0;
    const caps = new NodeCapabilities(async () => { n++; throw new Error('ip timed out'); }, 60_000, () => t);
    const at: number[] = [];
    for (; t <= 200_000; t += 1_000) { const before = n; await caps.read('eth0'); if (n > before) at.push(t); }
    expect(at.slice(0, 6)).toEqual([0, 5_000, 15_000, 35_000, 75_000, 135_000]);
  });

  it('a probe with no answer is made again within seconds, not at the minute a missing capability waits', async () => {
    let t = 0;
    const answers: Array<Capabilities | undefined> = [undefined, { macvlan: true, vlan: false }, { macvlan: true, vlan: true }];
    let n = 0;
    const caps = new NodeCapabilities(async () => { const a = answers[n++]; if (!a) throw new Error('ip timed out'); return a; }, 60_000, () => t);
    expect((await caps.read('eth0')).found).toEqual({});
    t += 4_999;
    await caps.read('eth0');
    expect(n, 'not before 5 s').toBe(1);
    t += 1;
    expect(await caps.read('eth0')).toEqual({ found: { macvlan: true, vlan: false }, changed: true });
    // an answer that lacks one: that one is asked about again a minute later, not 5 s
    t += 5_000;
    await caps.read('eth0');
    expect(n).toBe(2);
    t += 55_000;
    expect((await caps.read('eth0')).found).toEqual({ macvlan: true, vlan: true });
  });

  it('compares capability sets by value, a missing key unlike false', () => {
    expect(sameCapabilities({ vlan: false, macvlan: true }, { macvlan: true, vlan: false })).toBe(true);
    expect(sameCapabilities({ vlan: false }, {})).toBe(false);
  });
});

describe('probeCapabilities', () => {
  it('reads a line the kernel refused as a missing capability, and cleans up either way', async () => {
    const { ip, batches } = ipFailing(refused([1]));
    expect(await probeCapabilities(ip, 'eth0')).toEqual({ macvlan: true, vlan: false });
    expect(batches[1].map((l) => l.slice(0, 2).join(' '))).toEqual(['link del', 'link del']);
  });

  it('throws when ip gave no answer (a timeout): that is not a capability gone', async () => {
    const { ip, batches } = ipFailing(new IpBatchError('CommandTimedOut', { kind: 'host' } as never, undefined, 'timed out after 10000 ms'));
    await expect(probeCapabilities(ip, 'eth0')).rejects.toThrow(/timed out/);
    expect(batches).toHaveLength(2);
  });
});

describe('the interface the capabilities are probed on', () => {
  const detected = { interface: 'eth0', address: '198.18.0.11' };
  it('is the pinned spec.interface, or the detected one while the host has no link of that name', () => {
    expect(probeInterface(undefined, detected)).toBe('eth0');
    expect(probeInterface('eth1', { ...detected, pinned: { name: 'eth1', ifindex: 3 } })).toBe('eth1');
    // a typo: probed there, every capability read false, beside InterfaceOnHost False
    expect(probeInterface('enp0s5', { ...detected, pinned: { name: 'enp0s5' } })).toBe('eth0');
    // an altname of a link: that link, by its name
    expect(probeInterface('enp0s3', { ...detected, pinned: { name: 'enp0s3', ifindex: 2, ifname: 'ens3' } })).toBe('ens3');
    // not looked up yet (the first read): the pinned one, as before
    expect(probeInterface('eth1', detected)).toBe('eth1');
  });
});

describe('a heartbeat\'s host read while the Node\'s spec.interface changes under it', () => {
  it('probes the capabilities for the pin the underlay read looked up, not one it never looked up', async () => {
    const { NodeHeartbeat } = await import('../../pkg/agent/heartbeat.js');
    let spec: { interface?: string } = { interface: 'enp0s5' };
    const probed: Array<string | undefined> = [];
    const ctx = {
      node: 'host-1',
      caches: { nodes: { get: () => ({ spec }) } },
      log: { info: () => undefined, warn: () => undefined },
      dp: {
        // the admin edits the pin (to another name the host lacks) while ip runs
        underlay: async (pinned?: string) => { spec = { interface: 'enp0s7' }; return { interface: 'eth0', address: '198.18.0.11', ...(pinned ? { pinned: { name: pinned } } : {}) }; },
        capabilities: async (iface: string | undefined) => { probed.push(iface); return { macvlan: iface === 'eth0', vlan: iface === 'eth0' }; },
      },
    };
    const hb = new NodeHeartbeat(ctx as never, { store: {} as never, stuck: {} as never, onCapabilitiesChanged: () => undefined });
    await hb.readHost();
    // enp0s5 was looked up and is not on the host: the detected interface, what the kernel can do there
    expect(probed).toEqual(['eth0']);
    expect((ctx as unknown as { capabilities: unknown }).capabilities).toEqual({ macvlan: true, vlan: true });
  });
});

describe('a heartbeat stopped while it probes at start-up', () => {
  // docs/agent.md: "A stopping agent lets a probe in flight finish (its links deleted) before it
  // lets its lease go." The probe makes a macvlan and a VLAN link on the host's underlay
  // interface and deletes them in a second `ip` run; the daemon exits once stop() returns, so a
  // stop that did not wait would leave them on the host's interface for good.
  it('stop() returns only after the probe of the start-up host read (readHost) has finished', async () => {
    const { NodeHeartbeat } = await import('../../pkg/agent/heartbeat.js');
    const order: string[] = [];
    let finishProbe!: () => void;
    let probeStarted!: () => void;
    const started = new Promise<void>((r) => { probeStarted = r; });
    const ctx = {
      node: 'host-1',
      caches: { nodes: { get: () => undefined } },
      log: { info: () => undefined, warn: () => undefined },
      dp: {
        underlay: async () => ({ interface: 'eth0', address: '198.18.0.11' }),
        capabilities: () => new Promise((done) => {
          order.push('probe');
          finishProbe = () => { order.push('probe links deleted'); done({ macvlan: true, vlan: false }); };
          probeStarted();
        }),
      },
    };
    const hb = new NodeHeartbeat(ctx as never, { store: {} as never, stuck: {} as never, onCapabilitiesChanged: () => undefined });
    const reading = hb.readHost();
    await started;
    const stopped = hb.stop().then(() => { order.push('stopped'); });
    // let the stop run as far as it goes on its own while the probe is still out
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    finishProbe();
    await Promise.all([stopped, reading]);
    expect(order).toEqual(['probe', 'probe links deleted', 'stopped']);
    // and a start-up that goes on after the stop probes no more (the daemon is about to exit)
    await hb.readHost();
    expect(order).toEqual(['probe', 'probe links deleted', 'stopped']);
  });
});
