// How messages name a long list: the first few, the rest counted.
import { describe, expect, it } from 'vitest';
import { firstFew } from '../../pkg/first-few.js';

describe('firstFew', () => {
  it('names all of a short list, and counts what passes the limit', () => {
    expect(firstFew([], 3)).toBe('');
    expect(firstFew(['a'], 3)).toBe('a');
    expect(firstFew(['a', 'b', 'c'], 3)).toBe('a, b, c');
    expect(firstFew(['a', 'b', 'c', 'd', 'e'], 3)).toBe('a, b, c and 2 more');
  });
});
