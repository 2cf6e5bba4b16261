// One `ip -json -details -batch` answers a pass's reads of links, addresses and routes (pkg/netlink):
// its output split into the commands' JSON values, and routes read as without -details.
import { describe, expect, it } from 'vitest';
import { batchJson, parseDetailedRoutes, parseRoutes, IpOutputError } from '../../pkg/netlink/parse.js';
import { NETLINK_NETFILTER, subscribedIn } from '../../pkg/netlink/subscribed.js';

describe('batchJson', () => {
  it('gives one value per printed line, in order', () => {
    expect(batchJson('[{"ifname":"lo"}]\n[]\n', 2, 'netns x')).toEqual([[{ ifname: 'lo' }], []]);
  });

  it('refuses another count of lines or a line that is not JSON, naming where', () => {
    expect(() => batchJson('[]\n', 2, 'netns x')).toThrow(/ip -batch in netns x printed 1 JSON lines, not 2/);
    expect(() => batchJson('[]\n[\n', 2, 'netns x')).toThrow(IpOutputError);
  });
});

describe('parseDetailedRoutes', () => {
  it('reads a route of `ip -d -j route show` as parseRoutes reads the same route without -d', () => {
    const plain = [{ dst: '10.8.0.0/16', gateway: '10.9.0.2', dev: 'd0', protocol: 'static', flags: [] }, { dst: '10.9.0.0/24', dev: 'd0', protocol: 'kernel', scope: 'link', prefsrc: '10.9.0.1', flags: [] }];
    const detailed = [{ type: 'unicast', dst: '10.8.0.0/16', gateway: '10.9.0.2', dev: 'd0', protocol: 'static', scope: 'global', flags: [] }, { type: 'unicast', dst: '10.9.0.0/24', dev: 'd0', protocol: 'kernel', scope: 'link', prefsrc: '10.9.0.1', flags: [] }];
    expect(parseDetailedRoutes(detailed)).toEqual(parseRoutes(plain));
  });
});

describe('subscribedIn', () => {
  const table = [
    'sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode',
    '000000005e6c7e29 0   0          00000000 0        0        0     2        0        6707969',
    '000000001f84cd01 0   10770      15800551 0        0        0     2        0        6710160',
    '00000000a5ab55bf 4   0          00000001 0        0        0     2        0        6707975',
  ].join('\n');

  it('finds the process\'s route socket joined to event groups', () => {
    expect(subscribedIn(table, new Set(['6710160']))).toBe(true);
  });

  it('not a route socket without groups, another protocol\'s, or another process\'s', () => {
    expect(subscribedIn(table, new Set(['6707969']))).toBe(false);
    expect(subscribedIn(table, new Set(['6707975']))).toBe(false);
    expect(subscribedIn(table, new Set(['1']))).toBe(false);
  });

  it('with NETLINK_NETFILTER: `nft monitor`\'s socket in its group (as measured in a lab namespace), not an idle one of that protocol', () => {
    const nft = [
      table,
      '000000002e406d11 12  0          00000000 0        0        0     2        0        10656188',
      '000000005ee70801 12  19260      00000040 0        0        0     2        0        10654556',
    ].join('\n');
    expect(subscribedIn(nft, new Set(['10654556']), NETLINK_NETFILTER)).toBe(true);
    expect(subscribedIn(nft, new Set(['10656188']), NETLINK_NETFILTER)).toBe(false);
    expect(subscribedIn(nft, new Set(['10654556']))).toBe(false);
    expect(subscribedIn(nft, new Set(['6710160']), NETLINK_NETFILTER)).toBe(false);
  });
});
