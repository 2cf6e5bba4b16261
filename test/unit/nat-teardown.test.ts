// xnet's chains and jumps go once nothing on the node needs them; only what xnet wrote goes.
import { describe, expect, it } from 'vitest';
import { FWD_CHAIN, NAT_CHAIN, natNeeded, planNatTeardown, teardownLines } from '../../pkg/agent/planner/index.js';

const nat = (post: string[], chain?: string[], extra: Record<string, string[]> = {}) => ({
  chains: ['PREROUTING', 'POSTROUTING', ...(chain ? [NAT_CHAIN] : []), ...Object.keys(extra)],
  rules: { POSTROUTING: post, ...(chain ? { [NAT_CHAIN]: chain } : {}), ...extra },
});

describe('NAT teardown', () => {
  it('is due only when no local HostSubnet lies in a ClusterNetwork', () => {
    expect(natNeeded({ clusterCidrs: ['10.76.0.0/16'], local: [{ bridge: 'br01', subnet: '10.76.1.0/24' }] })).toBe(true);
    expect(natNeeded({ clusterCidrs: ['10.76.0.0/16'], local: [] })).toBe(false);
    expect(natNeeded({ clusterCidrs: [], local: [] })).toBe(false);
  });

  it('deletes every copy of xnet\'s jump, then empties and deletes its chain; the admin\'s rules are not named', () => {
    const t = nat(['-j USER-NAT', `-j ${NAT_CHAIN}`, '-s 10.99.0.0/16 -j MASQUERADE', `-j ${NAT_CHAIN}`], ['-s 10.76.1.0/24 -d 10.76.0.0/16 -j ACCEPT'], { 'USER-NAT': ['-s 10.98.0.0/16 -j RETURN'] });
    expect(teardownLines(t, 'POSTROUTING', NAT_CHAIN)).toEqual([
      `-D POSTROUTING -j ${NAT_CHAIN}`, `-D POSTROUTING -j ${NAT_CHAIN}`, `:${NAT_CHAIN} - [0:0]`, `-X ${NAT_CHAIN}`,
    ]);
  });

  it('plans nothing once the chains and jumps are gone (a second pass, or a node that never had them)', () => {
    const none = { nat: nat(['-j USER-NAT']), filter: { chains: ['FORWARD'], rules: { FORWARD: ['-j DOCKER-USER'] } }, ipForward: '0' };
    expect(planNatTeardown(none)).toEqual({ ops: [], problems: [] });
  });

  it('a chain an admin\'s rule still jumps to is only emptied (deleting it would fail the whole restore)', () => {
    const t = { chains: ['FORWARD', FWD_CHAIN, 'MINE'], rules: { FORWARD: [`-j ${FWD_CHAIN}`], [FWD_CHAIN]: ['-i br01 -o br01 -j RETURN'], MINE: [`-i eth1 -j ${FWD_CHAIN}`] } };
    expect(teardownLines(t, 'FORWARD', FWD_CHAIN)).toEqual([`-D FORWARD -j ${FWD_CHAIN}`, `:${FWD_CHAIN} - [0:0]`]);
    // a jump with matches of its own in the built-in chain is not xnet's either
    const u = { chains: ['FORWARD', FWD_CHAIN], rules: { FORWARD: [`-i eth1 -j ${FWD_CHAIN}`], [FWD_CHAIN]: [] } };
    expect(teardownLines(u, 'FORWARD', FWD_CHAIN)).toEqual([]);
    // a chain whose name merely starts with xnet's is no reference to it
    const v = { chains: ['FORWARD', FWD_CHAIN], rules: { FORWARD: [`-j ${FWD_CHAIN}-X`], [FWD_CHAIN]: [] } };
    expect(teardownLines(v, 'FORWARD', FWD_CHAIN)).toEqual([`:${FWD_CHAIN} - [0:0]`, `-X ${FWD_CHAIN}`]);
  });

  it('both tables in one plan, and IP forwarding left as it is', () => {
    const o = { nat: nat([`-j ${NAT_CHAIN}`], []), filter: { chains: ['FORWARD', FWD_CHAIN], rules: { FORWARD: ['-j DOCKER-USER', `-j ${FWD_CHAIN}`], [FWD_CHAIN]: [] } }, ipForward: '0' };
    expect(planNatTeardown(o).ops).toEqual([
      { op: 'iptables.restore', table: 'nat', lines: [`-D POSTROUTING -j ${NAT_CHAIN}`, `:${NAT_CHAIN} - [0:0]`, `-X ${NAT_CHAIN}`] },
      { op: 'iptables.restore', table: 'filter', lines: [`-D FORWARD -j ${FWD_CHAIN}`, `:${FWD_CHAIN} - [0:0]`, `-X ${FWD_CHAIN}`] },
    ]);
  });
});
