// "did you mean": the one rule behind every hint for a name typed wrong (pkg/api/suggest.ts).
import { describe, expect, it } from 'vitest';
import { closest, closestAll, didYouMean, suggestion } from '../../pkg/api/suggest.js';

describe('did you mean', () => {
  it('names the closest name when one is closest', () => {
    expect(suggestion('host1', ['host-1', 'router', 'hostile-7'])).toBe(' (did you mean "host-1"?)');
    expect(closest('host1', ['router', 'host-1'])).toBe('host-1');
  });

  it('names every name equally close, sorted, whatever order they come in', () => {
    expect(suggestion('host3', ['host-2', 'host-1', 'host-2'])).toBe(' (did you mean "host-1" or "host-2"?)');
    expect(suggestion('rack', ['racka', 'rackc', 'rackb'])).toBe(' (did you mean "racka", "rackb" or "rackc"?)');
    expect(closestAll('n', ['a', 'b', 'c', 'd', 'e'], 1)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(didYouMean(['a', 'b', 'c', 'd', 'e'])).toBe(' (did you mean "a", "b", "c" or one of 2 more?)');
    expect(didYouMean(['a', 'b', 'c', 'd'])).toBe(' (did you mean "a", "b", "c" or "d"?)');
    // the first of them is the one a single answer gives (a field's name in a manifest)
    expect(closest('host3', ['host-2', 'host-1'])).toBe('host-1');
  });

  it('names none when none is close enough', () => {
    expect(suggestion('host1', ['router', 'switch'])).toBe('');
    expect(closestAll('x', [])).toEqual([]);
    // one edit past the bound is not close, however many names are that far
    expect(suggestion('pods', ['node', 'nodes'], 1)).toBe('');
    expect(didYouMean([])).toBe('');
  });
});
