// The line `xctl verify` prints when nothing differs, as a user reads it for one host or several.
import { describe, expect, it } from 'vitest';
import { noDifferencesLine } from '../../pkg/cli/commands/verify-run.js';

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
