import { describe, expect, it } from 'vitest';
import { deleteEndsTerm } from '../../pkg/runtime/leader.js';

describe('deleteEndsTerm', () => {
  it('a delete of the election key after the term began ends it', () => {
    expect(deleteEndsTerm('120', '100')).toBe(true);
  });
  it('a delete from before the term, delivered late by a lagging watch, does not', () => {
    expect(deleteEndsTerm('99', '100')).toBe(false);
    expect(deleteEndsTerm(99, '100')).toBe(false);
  });
  it('compares revisions as numbers, not as text', () => {
    expect(deleteEndsTerm('1000', '999')).toBe(true);
    expect(deleteEndsTerm('999', '1000')).toBe(false);
  });
  it('with no term, any delete counts (a waiting campaign wakes)', () => {
    expect(deleteEndsTerm('5', undefined)).toBe(true);
  });
});
