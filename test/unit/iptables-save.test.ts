// Reading `iptables-save`: every rule of a chain, in order, also a bare counting rule (an
// admin's `iptables -I FORWARD`, printed as "-A FORWARD" with nothing after it): the agent
// inserts its jumps by position in this list (planner/nat.ts), so a rule left out of it puts
// them one place too high.
import { describe, expect, it } from 'vitest';
import { parseSave } from '../../pkg/netlink/iptables.js';

const DUMP = [
  '*nat', ':POSTROUTING ACCEPT [0:0]', '-A POSTROUTING -j MASQUERADE', 'COMMIT',
  '*filter', ':FORWARD DROP [0:0]', ':DOCKER-USER - [0:0]', '-A FORWARD', '-A FORWARD -j DOCKER-USER', '-A DOCKER-USER -j RETURN', 'COMMIT', '',
].join('\n');

describe('parseSave', () => {
  it('keeps a bare rule (no match, no target) in its place', () => {
    const d = parseSave(DUMP, 'filter');
    expect(d.chains).toEqual(['FORWARD', 'DOCKER-USER']);
    expect(d.rules).toEqual({ FORWARD: ['', '-j DOCKER-USER'], 'DOCKER-USER': ['-j RETURN'] });
  });
});
