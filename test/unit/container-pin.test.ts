// The check that a namespace pinned through a container's PID is still that container's:
// Docker's inspect after the open against the inspect the PID came from (pkg/agent/container-pin.ts).
import { describe, expect, it } from 'vitest';
import { pinContainerNetns, pinnedLife } from '../../pkg/agent/container-pin.js';
import { DockerError, type ContainerInfo } from '../../pkg/docker/types.js';
import { PinError, type PinnedNetns } from '../../pkg/netlink/pinned.js';

const ID = 'a'.repeat(64);
const STARTED = '2026-03-01T10:00:00.123456789Z';
const before: ContainerInfo = { id: ID, name: 'side', running: true, pid: 4242, startedAt: STARTED, networkMode: 'bridge' };

describe('pinnedLife', () => {
  it('same container, running, same PID and start time: the pinned namespace is its', () => {
    expect(pinnedLife(before, { ...before })).toBe('same');
  });

  it('a restart between the inspect and the open (same id, new start, new or even the same PID): restarted', () => {
    expect(pinnedLife(before, { ...before, pid: 5151, startedAt: '2026-03-01T10:00:07Z' })).toBe('restarted');
    // the PID alone would not tell: a restarted container may get its old PID back
    expect(pinnedLife(before, { ...before, startedAt: '2026-03-01T10:00:07Z' })).toBe('restarted');
    expect(pinnedLife(before, { ...before, pid: 5151 })).toBe('restarted');
  });

  it('a start time Docker did not give confirms nothing', () => {
    expect(pinnedLife({ ...before, startedAt: '' }, { ...before, startedAt: '' })).toBe('restarted');
  });

  it('stopped, removed, or another container answering: gone', () => {
    expect(pinnedLife(before, { ...before, running: false, pid: 0 })).toBe('gone');
    expect(pinnedLife(before, undefined)).toBe('gone');
    expect(pinnedLife(before, { ...before, id: 'b'.repeat(64) })).toBe('gone');
  });
});

/** A pinned handle that records whether it was closed. */
function handle(pid: number): PinnedNetns & { closed: boolean } {
  const h = { pid, path: `/proc/1/fd/${pid}`, target: {} as never, dev: 4, ino: pid, closed: false, close: async () => { h.closed = true; } };
  return h;
}

/** The pin and the confirming inspect, in the order the dataplane was asked. */
function dataplane(after: () => Promise<ContainerInfo | undefined>) {
  const calls: string[] = [];
  const pins: ReturnType<typeof handle>[] = [];
  const dp = {
    pinNetns: async (pid: number) => { calls.push(`pin ${pid}`); const h = handle(pid); pins.push(h); return h; },
    docker: { inspectContainer: async (name: string) => { calls.push(`inspect ${name}`); return after(); } },
  } as unknown as Parameters<typeof pinContainerNetns>[0];
  return { dp, calls, pins };
}

describe('pinContainerNetns', () => {
  it('pins first, then asks Docker about the same container by id; a confirmed handle stays open', async () => {
    const { dp, calls, pins } = dataplane(async () => ({ ...before }));
    const r = await pinContainerNetns(dp, before);
    expect(calls).toEqual(['pin 4242', `inspect ${ID}`]);
    expect(r.life).toBe('same');
    expect(r.ns).toBe(pins[0]);
    expect(pins[0].closed).toBe(false);
  });

  it('closes the handle when Docker says the container restarted or is gone', async () => {
    for (const [after, life] of [[{ ...before, pid: 5151, startedAt: '2026-03-01T10:00:07Z' }, 'restarted'], [undefined, 'gone']] as const) {
      const { dp, pins } = dataplane(async () => after);
      const r = await pinContainerNetns(dp, before);
      expect(r).toEqual({ life });
      expect(pins[0].closed, life).toBe(true);
    }
  });

  it('closes the handle and throws when the confirming inspect fails', async () => {
    const { dp, pins } = dataplane(async () => { throw new DockerError('DockerTimedOut', 'inspect container: no answer'); });
    await expect(pinContainerNetns(dp, before)).rejects.toThrow('no answer');
    expect(pins[0].closed).toBe(true);
  });

  it('pins nothing for a container not running, and reports a PID whose namespace cannot be opened as gone', async () => {
    const { dp, calls } = dataplane(async () => ({ ...before }));
    expect(await pinContainerNetns(dp, { ...before, running: false, pid: 0 })).toEqual({ life: 'gone' });
    expect(calls).toEqual([]);
    const failing = { ...dp, pinNetns: async () => { throw new PinError('ContainerNotRunning', 'no such process'); } };
    expect(await pinContainerNetns(failing, before)).toEqual({ life: 'gone' });
  });
});
