import { describe, expect, it } from 'vitest';
import { equalitySelector, matchLabels, selectorMatches } from '../../pkg/api/labels.js';

describe('matchLabels', () => {
  it('selects when every wanted key=value is present, extra labels allowed', () => {
    expect(matchLabels({ zone: 'a' }, { zone: 'a', rack: '1' })).toBe(true);
    expect(matchLabels({ zone: 'a', rack: '2' }, { zone: 'a', rack: '1' })).toBe(false);
    expect(matchLabels({ zone: 'a' }, undefined)).toBe(false);
  });

  it('an empty or absent selector selects everything', () => {
    expect(matchLabels(undefined, undefined)).toBe(true);
    expect(matchLabels({}, { zone: 'a' })).toBe(true);
  });
});

describe('selectorMatches', () => {
  const labels = { app: 'web', tier: '' };
  it('In: the key is there with one of the values', () => {
    expect(selectorMatches([{ key: 'app', operator: 'In', values: ['db', 'web'] }], labels)).toBe(true);
    expect(selectorMatches([{ key: 'app', operator: 'In', values: ['db'] }], labels)).toBe(false);
    expect(selectorMatches([{ key: 'tier', operator: 'In', values: [''] }], labels)).toBe(true);
    expect(selectorMatches([{ key: 'zone', operator: 'In', values: [''] }], labels)).toBe(false);
  });

  it('NotIn: the key is missing, or has none of the values', () => {
    expect(selectorMatches([{ key: 'app', operator: 'NotIn', values: ['db'] }], labels)).toBe(true);
    expect(selectorMatches([{ key: 'app', operator: 'NotIn', values: ['web'] }], labels)).toBe(false);
    expect(selectorMatches([{ key: 'zone', operator: 'NotIn', values: ['a'] }], labels)).toBe(true);
    expect(selectorMatches([{ key: 'zone', operator: 'NotIn', values: ['a'] }], undefined)).toBe(true);
  });

  it('Exists and DoesNotExist: only the key counts, an empty value included', () => {
    expect(selectorMatches([{ key: 'tier', operator: 'Exists' }], labels)).toBe(true);
    expect(selectorMatches([{ key: 'zone', operator: 'Exists' }], labels)).toBe(false);
    expect(selectorMatches([{ key: 'tier', operator: 'DoesNotExist' }], labels)).toBe(false);
    expect(selectorMatches([{ key: 'zone', operator: 'DoesNotExist' }], undefined)).toBe(true);
  });

  it('finds only the object\'s own labels, not Object.prototype\'s', () => {
    expect(selectorMatches([{ key: 'constructor', operator: 'Exists' }], {})).toBe(false);
    expect(selectorMatches([{ key: 'toString', operator: 'DoesNotExist' }], {})).toBe(true);
  });

  it('every requirement must hold; none selects everything', () => {
    expect(selectorMatches([{ key: 'app', operator: 'Exists' }, { key: 'zone', operator: 'Exists' }], labels)).toBe(false);
    expect(selectorMatches([], undefined)).toBe(true);
    expect(selectorMatches(undefined, labels)).toBe(true);
  });

  it('matchLabels is the equality case', () => {
    expect(equalitySelector({ app: 'web' })).toEqual([{ key: 'app', operator: 'In', values: ['web'] }]);
  });
});
