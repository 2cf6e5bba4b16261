// The NAT pass's reads of its host (pkg/agent/nat-reads.ts): the iptables tables kept while the
// `nft monitor` is subscribed, ip_forward while the `ip monitor` is, each dropped by the words that
// tell of its change and both by any other word of a change. The readers stand in for
// iptables-save and sysctl (counters, each read answering anew), so the rule itself is tested;
// test/integration/agent-host-reads.test.ts runs it with a real agent and kernel.
import { describe, expect, it } from 'vitest';
import { NatReads } from '../../pkg/agent/nat-reads.js';
import { IP_MONITOR, NFT_MONITOR } from '../../pkg/agent/kept-read.js';
import type { ChainDump } from '../../pkg/netlink/iptables.js';
import { parseMonitorLine } from '../../pkg/netlink/monitor.js';

function counted() {
  const r = {
    saves: 0,
    sysctls: 0,
    async save(table: string): Promise<ChainDump> {
      const n = ++r.saves;
      return { chains: ['POSTROUTING'], rules: { POSTROUTING: [`-j ${table}-${n}`] } };
    },
    async ipForward(): Promise<string> { return String(++r.sysctls); },
  };
  return r;
}

function watched() {
  const r = counted();
  const n = new NatReads((t) => r.save(t), () => r.ipForward());
  n.watching(IP_MONITOR, true);
  n.watching(NFT_MONITOR, true);
  return { r, n };
}

const line = (l: string) => parseMonitorLine(l)!;

describe('NatReads', () => {
  it('reads the kernel every time while no monitor is subscribed', async () => {
    const r = counted();
    const n = new NatReads((t) => r.save(t), () => r.ipForward());
    await n.tables(); await n.tables(); await n.ipForward(); await n.ipForward();
    expect({ saves: r.saves, sysctls: r.sysctls }).toEqual({ saves: 4, sysctls: 2 });
  });

  it('keeps both reads while both monitors are subscribed, until a change is told', async () => {
    const { r, n } = watched();
    const first = await n.tables();
    expect(await n.tables()).toBe(first);
    expect(await n.ipForward()).toBe(await n.ipForward());
    expect({ saves: r.saves, sysctls: r.sysctls }).toEqual({ saves: 2, sysctls: 1 });
    n.changed();
    expect((await n.tables()).nat.rules.POSTROUTING).toEqual(['-j nat-3']);
    expect(await n.ipForward()).toBe('2');
  });

  it('an nft monitor line drops the tables, not ip_forward', async () => {
    const { r, n } = watched();
    await n.tables(); await n.ipForward();
    n.rulesChanged();
    await n.tables(); await n.ipForward();
    expect({ saves: r.saves, sysctls: r.sysctls }).toEqual({ saves: 4, sysctls: 1 });
  });

  it('the ip monitor\'s line of the host\'s forwarding drops ip_forward, not the tables; its other lines drop neither', async () => {
    const { r, n } = watched();
    await n.tables(); await n.ipForward();
    for (const l of ['[NETCONF]inet default forwarding off ', '[NETCONF]inet lo forwarding off ', '[LINK]5: br01: <BROADCAST> mtu 1500', '[ROUTE]10.76.2.0/24 via 198.18.0.12 dev eth0']) n.kernelEvent(line(l));
    await n.tables(); await n.ipForward();
    expect({ saves: r.saves, sysctls: r.sysctls }).toEqual({ saves: 2, sysctls: 1 });
    // as `ip monitor label ... netconf` printed `sysctl -w net.ipv4.ip_forward=0` in a lab namespace
    n.kernelEvent(line('[NETCONF]inet all forwarding off '));
    await n.tables();
    expect(await n.ipForward()).toBe('2');
    expect(r.saves).toBe(2);
  });

  it('keeps the tables only while the nft monitor is subscribed, ip_forward only while the ip monitor is', async () => {
    const r = counted();
    const n = new NatReads((t) => r.save(t), () => r.ipForward());
    n.watching(IP_MONITOR, true);
    await n.tables(); await n.tables(); await n.ipForward(); await n.ipForward();
    expect({ saves: r.saves, sysctls: r.sysctls }).toEqual({ saves: 4, sysctls: 1 });
    n.watching(NFT_MONITOR, true);
    n.watching(IP_MONITOR, false);
    await n.tables(); await n.tables(); await n.ipForward(); await n.ipForward();
    expect({ saves: r.saves, sysctls: r.sysctls }).toEqual({ saves: 6, sysctls: 3 });
  });

  it('hands out tables no caller can change under the others', async () => {
    const { n } = watched();
    const t = await n.tables();
    expect(() => { t.nat.rules.POSTROUTING.push('-j X'); }).toThrow(TypeError);
    expect(() => { t.filter.chains.push('X'); }).toThrow(TypeError);
    expect((await n.tables()).nat.rules.POSTROUTING).toEqual(['-j nat-1']);
  });
});
