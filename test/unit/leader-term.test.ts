import { describe, expect, it } from 'vitest';
import { deleteEndsTerm, putEndsTerm } from '../../pkg/runtime/leader.js';

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

describe('putEndsTerm', () => {
  it('another holder\'s key written after the term began ends it', () => {
    expect(putEndsTerm('120', '120', '100')).toBe(true);
  });
  it('a put of this term\'s own key does not', () => {
    expect(putEndsTerm('100', '100', '100')).toBe(false);
  });
  it('a put from before the term, replayed late by a lagging watch, does not', () => {
    // another candidate took the key at 95 and lost it at 99 while this one's watch was cut off
    expect(putEndsTerm('95', '95', '100')).toBe(false);
    expect(putEndsTerm('999', '999', '1000')).toBe(false);
  });
  it('with no term, no put ends anything', () => {
    expect(putEndsTerm('5', '5', undefined)).toBe(false);
  });
});
