// The agent's host reads (pkg/agent/host-reads.ts): kept between passes only while the kernel
// monitor is subscribed, and dropped at every word of a change. The reader here stands in for
// `ip` (a counter of reads, each answering a fresh state), so the rule itself is what is tested;
// test/integration/agent-host-reads.test.ts runs it with a real agent and kernel.
import { describe, expect, it } from 'vitest';
import { HostReads } from '../../pkg/agent/host-reads.js';
import type { HostState } from '../../pkg/netlink/ip.js';

function counted() {
  const r = {
    reads: 0,
    /** a read that waits for release() (undefined: answers at once) */
    gate: undefined as Promise<void> | undefined,
    async state(): Promise<HostState> {
      const n = ++r.reads;
      if (r.gate) await r.gate;
      return { links: [{ ifindex: n, name: `l${n}`, mac: '', mtu: 1500, up: true, promisc: false }], addrs: [], routes: [{ dst: 'default', proto: 'boot' }] };
    },
    async routes(table = 'main') { return [{ dst: `in-${table}`, proto: 'boot' }]; },
  };
  return r;
}

describe('HostReads', () => {
  it('reads the kernel every time while no monitor is subscribed', async () => {
    const r = counted();
    const h = new HostReads(r);
    await h.state(); await h.linksAndAddrs(); await h.routes();
    expect(r.reads).toBe(3);
  });

  it('keeps a read while the monitor is subscribed, for every kind of read, until a change is told', async () => {
    const r = counted();
    const h = new HostReads(r);
    h.watching(true);
    const first = await h.state();
    expect((await h.links())[0].name).toBe(first.links[0].name);
    await h.addrs(); await h.routes(); await h.linksAndAddrs();
    expect(r.reads).toBe(1);
    expect(h.counts).toEqual({ read: 1, kept: 4 });
    h.changed();
    expect((await h.links())[0].name).toBe('l2');
    expect(r.reads).toBe(2);
  });

  it('reads the kernel again once the monitor stopped, and keeps nothing until it is subscribed again', async () => {
    const r = counted();
    const h = new HostReads(r);
    h.watching(true);
    await h.state(); await h.state();
    expect(r.reads).toBe(1);
    h.watching(false);
    await h.state(); await h.state();
    expect(r.reads).toBe(3);
  });

  it('does not keep a read that was under way when a change was told (it may predate the change)', async () => {
    const r = counted();
    const h = new HostReads(r);
    h.watching(true);
    let release!: () => void;
    r.gate = new Promise((res) => { release = res; });
    const during = h.state();
    h.changed();
    release();
    expect((await during).links[0].name).toBe('l1');
    r.gate = undefined;
    expect((await h.state()).links[0].name).toBe('l2');
    expect((await h.state()).links[0].name).toBe('l2');
    expect(r.reads).toBe(2);
  });

  it('answers callers that ask at once with one read', async () => {
    const r = counted();
    const h = new HostReads(r);
    let release!: () => void;
    r.gate = new Promise((res) => { release = res; });
    const both = Promise.all([h.state(), h.routes(), h.linksAndAddrs()]);
    release();
    await both;
    expect(r.reads).toBe(1);
  });

  it('reads a table other than main from the kernel', async () => {
    const r = counted();
    const h = new HostReads(r);
    h.watching(true);
    expect((await h.routes('local'))[0].dst).toBe('in-local');
  });

  it('hands out a state no caller can change under the others', async () => {
    const h = new HostReads(counted());
    h.watching(true);
    const s = await h.state();
    expect(() => { (s.links as unknown[]).push({}); }).toThrow(TypeError);
    expect(() => { (s.links[0] as { name: string }).name = 'x'; }).toThrow(TypeError);
    expect((await h.links())[0].name).toBe('l1');
  });
});
