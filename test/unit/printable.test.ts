// What a node writes is printed by xctl with its control characters escaped (docs/security.md).
// Unicode format characters too: a bidi override (U+202E) makes a terminal that honours it show
// the rest of the cell reversed ("Conv\u202eegrev" reads as "Converged"), zero-width ones hide
// text, and U+2028/U+2029 are line breaks to some viewers.
import { describe, expect, it } from 'vitest';
import { printable } from '../../pkg/printable.js';
import { renderTable, toHumanYaml } from '../../pkg/cli/format.js';

describe('printable', () => {
  it('escapes C0, DEL and C1 controls as before', () => {
    expect(printable('a\nb\x1b[2Jc\x7f\x9b')).toBe('a\\nb\\u001b[2Jc\\u007f\\u009b');
  });

  it('escapes bidi overrides and isolates, zero-width characters and line separators', () => {
    expect(printable('Conv\u202eegrev')).toBe('Conv\\u202eegrev');
    expect(printable('x\u2066y\u2069\u200b\u200d\ufeff')).toBe('x\\u2066y\\u2069\\u200b\\u200d\\ufeff');
    expect(printable('ok\u2028host-1\u2029')).toBe('ok\\u2028host-1\\u2029');
    expect(printable('tag\u{e0041}')).toBe('tag\\u{e0041}');
  });

  it('leaves other text alone', () => {
    expect(printable('eth1 is in container c2 with 10.76.2.3/24 — ünïcødé ✓')).toBe('eth1 is in container c2 with 10.76.2.3/24 — ünïcødé ✓');
  });

  it('get tables and describe YAML print them escaped', () => {
    expect(renderTable([['REASON'], ['Conv\u202eegrev']])).toBe('REASON\nConv\\u202eegrev\n');
    expect(toHumanYaml({ hostInterface: 'xv\u202e1234' })).not.toMatch(/\u202e/);
  });
});
