import { describe, expect, it } from 'vitest';
import { matchLabels } from '../../pkg/api/labels.js';

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
