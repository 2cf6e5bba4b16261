// A listing cut into ranges read side by side (the controller's start-up) must read exactly the
// prefix: every key in one range, none twice, none outside.
import { describe, expect, it } from 'vitest';
import { prefixEnd, splitPrefix } from '../../pkg/etcd/range.js';

const text = (ranges: ReturnType<typeof splitPrefix>) => ranges.map((r) => [r.from.toString(), r.end.toString()]);

describe('splitPrefix', () => {
  it('cuts the prefix at the keys inside it, in key order, into ranges that meet end to start', () => {
    const ranges = splitPrefix('/x/', ['/x/registry/objects/', '/x/ipam/', '/x/registry/bynode/', '/x/ipam/']);
    expect(text(ranges)).toEqual([
      ['/x/', '/x/ipam/'], ['/x/ipam/', '/x/registry/bynode/'], ['/x/registry/bynode/', '/x/registry/objects/'], ['/x/registry/objects/', prefixEnd('/x/').toString()],
    ]);
  });

  it('ignores cuts outside the prefix or at its very start, and gives one range without cuts', () => {
    expect(text(splitPrefix('/x/', ['/w/', '/y/', '/x/']))).toEqual([['/x/', prefixEnd('/x/').toString()]]);
    expect(text(splitPrefix('/x/'))).toEqual([['/x/', prefixEnd('/x/').toString()]]);
  });

  it('puts every key of the prefix in exactly one range', () => {
    const ranges = splitPrefix('/x/', ['/x/b', '/x/d/']);
    const inRange = (k: string) => ranges.filter((r) => Buffer.compare(Buffer.from(k), r.from) >= 0 && Buffer.compare(Buffer.from(k), r.end) < 0).length;
    for (const k of ['/x/', '/x/a', '/x/b', '/x/c/1', '/x/d/', '/x/d/9', '/x/\u00ff']) expect(inRange(k), k).toBe(1);
    expect(inRange('/y/')).toBe(0);
  });
});
