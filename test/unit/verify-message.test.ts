// The line `xctl verify` prints when nothing differs, as a user reads it for one host or several, and what it says of a report that is not fresh.
import { describe, expect, it } from 'vitest';
import { noDifferencesLine } from '../../pkg/cli/commands/verify-run.js';
import { staleAge, staleLines } from '../../pkg/verify/report-age.js';

describe('xctl verify: the no-differences line', () => {
  it('speaks of one host in the singular, from agents\' reports or read directly', () => {
    expect(noDifferencesLine(['host-1'], false)).toBe('no differences: host-1 reports it holds what etcd declares\n');
    expect(noDifferencesLine(['host-1'], true)).toBe('no differences: host-1 holds what etcd declares\n');
  });

  it('speaks of several hosts in the plural', () => {
    expect(noDifferencesLine(['host-1', 'host-2'], false)).toBe('no differences: host-1, host-2 report they hold what etcd declares\n');
    expect(noDifferencesLine(['host-1', 'host-2'], true)).toBe('no differences: host-1, host-2 hold what etcd declares\n');
  });
});

describe('xctl verify: a report its agent no longer renews', () => {
  it('is stale once older than a running agent allows (a renewal every third of the TTL, etcd counting whole seconds)', () => {
    // the agent's report lease: 15 s, renewed every 5 s
    for (const remaining of [15, 14, 10, 9]) expect(staleAge(15, remaining), `${15 - remaining} s`).toBeUndefined();
    expect(staleAge(15, 8)).toEqual({ age: 7, ttl: 15 });
    expect(staleAge(15, 1)).toEqual({ age: 14, ttl: 15 });
    // expired, or no lease: nothing to say
    expect(staleAge(15, -1)).toBeUndefined();
    expect(staleAge(0, 0)).toBeUndefined();
  });

  it('says how old it is in the no-differences line, the others as before', () => {
    const stale = new Map([['host-1', { age: 8, ttl: 15 }]]);
    expect(noDifferencesLine(['host-1', 'host-2'], false, stale)).toBe('no differences: host-1 (report 8 s old), host-2 report they hold what etcd declares\n');
    expect(staleLines(stale)).toBe('warning: the report of host-1 is 8 s old: its agent has not renewed it since (a running agent does every 5 s) and may have stopped, ' +
      'so what it says may be out of date; a stopped agent\'s report is gone 15 s after its last renewal\n');
  });
});
