import { describe, expect, it } from 'vitest';
import { parseSelector } from '../../pkg/cli/label-selector.js';
import { selectorMatches } from '../../pkg/api/labels.js';
import { UsageError } from '../../pkg/cli/exit.js';

/** What the selector selects among these label sets, by their names. */
const selected = (args: string[], objects: Record<string, Record<string, string>>) =>
  Object.keys(objects).filter((name) => selectorMatches(parseSelector(args), objects[name]));

describe('parseSelector: kubectl\'s forms', () => {
  it('reads each form as a requirement', () => {
    expect(parseSelector(['a=1', 'b==2', 'c!=3'])).toEqual([
      { key: 'a', operator: 'In', values: ['1'] },
      { key: 'b', operator: 'In', values: ['2'] },
      { key: 'c', operator: 'NotIn', values: ['3'] },
    ]);
    expect(parseSelector(['app in (web,db)', 'tier notin (x)'])).toEqual([
      { key: 'app', operator: 'In', values: ['web', 'db'] },
      { key: 'tier', operator: 'NotIn', values: ['x'] },
    ]);
    expect(parseSelector(['team', '!canary'])).toEqual([
      { key: 'team', operator: 'Exists' },
      { key: 'canary', operator: 'DoesNotExist' },
    ]);
  });

  it('splits at commas outside parentheses: those inside separate a set\'s values', () => {
    expect(parseSelector(['app in (a,b),!team,tier!=x'])).toEqual([
      { key: 'app', operator: 'In', values: ['a', 'b'] },
      { key: 'team', operator: 'DoesNotExist' },
      { key: 'tier', operator: 'NotIn', values: ['x'] },
    ]);
  });

  it('takes white space around the tokens, as kubectl does', () => {
    expect(parseSelector([' app  in ( a , b ) , ! team , tier != x , zone = 1 , rack '])).toEqual([
      { key: 'app', operator: 'In', values: ['a', 'b'] },
      { key: 'team', operator: 'DoesNotExist' },
      { key: 'tier', operator: 'NotIn', values: ['x'] },
      { key: 'zone', operator: 'In', values: ['1'] },
      { key: 'rack', operator: 'Exists' },
    ]);
    expect(parseSelector(['app in(a)'])).toEqual([{ key: 'app', operator: 'In', values: ['a'] }]);
  });

  it('takes an empty value for = and != (a label may be empty), and prefixed keys', () => {
    expect(parseSelector(['a=', 'b!=', 'xnet.io/role=edge'])).toEqual([
      { key: 'a', operator: 'In', values: [''] },
      { key: 'b', operator: 'NotIn', values: [''] },
      { key: 'xnet.io/role', operator: 'In', values: ['edge'] },
    ]);
  });
});

describe('parseSelector: what it refuses (usage errors naming the selector)', () => {
  const long = 'x'.repeat(64);
  it.each([
    ['app in (a,b', 'invalid label selector "app in (a,b": "(" without its ")"'],
    ['app in a,b)', 'invalid label selector "app in a,b)": ")" without its "("'],
    ['app in ()', 'invalid label selector "app in ()": "app in ()" has no values; give at least one: app in (v1,v2)'],
    ['app notin ( )', 'invalid label selector "app notin ( )": "app notin ( )" has no values; give at least one: app notin (v1,v2)'],
    ['a b', 'invalid label selector "a b": cannot read "a b" as a requirement; use key=value, key!=value, key in (v1,v2), key notin (v1,v2), key, !key, comma-separated'],
    ['a>1', 'invalid label selector "a>1": "a>1": > and < are not supported; use key=value, key!=value'],
    ['a < 1', 'invalid label selector "a < 1": "a < 1": > and < are not supported'],
    ['app in (a) b', 'invalid label selector "app in (a) b": cannot read "app in (a) b" as a requirement'],
    ['!a=b', 'invalid label selector "!a=b": cannot read "!a=b" as a requirement'],
    ['=b', 'invalid label selector "=b": cannot read "=b" as a requirement'],
    ['-app=web', 'invalid label selector "-app=web": invalid label key "-app": a key is [prefix/]name'],
    ['!-app', 'invalid label selector "!-app": invalid label key "-app"'],
    [`${long}=a`, `invalid label selector "${long}=a": invalid label key "${long}": the name (after any "/") has 64 characters, at most 63`],
    ['Bad_Prefix/app', 'invalid label selector "Bad_Prefix/app": invalid label key "Bad_Prefix/app"'],
    ['app=we b', 'invalid label selector "app=we b": invalid label value "we b": at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit (or empty)'],
    ['app=a=b', 'invalid label selector "app=a=b": invalid label value "a=b"'],
    [`app!=${long}`, `invalid label selector "app!=${long}": invalid label value "${long}"`],
    ['app in (a,-b)', 'invalid label selector "app in (a,-b)": invalid label value "-b"'],
    ['app in ((a))', 'invalid label selector "app in ((a))": invalid label value "(a)"'],
    ['bad key in (a)', 'invalid label selector "bad key in (a)": cannot read "bad key in (a)" as a requirement'],
  ])('%s', (selector, message) => {
    expect(() => parseSelector([selector])).toThrow(UsageError);
    expect(() => parseSelector([selector])).toThrow(message);
  });

  it('names the flag that is wrong when -l is repeated', () => {
    expect(() => parseSelector(['app=web', 'tier in (x'])).toThrow('invalid label selector "tier in (x": "(" without its ")"');
  });
});

describe('selectorMatches with parsed selectors', () => {
  const objects = {
    a: { app: 'a', tier: 'x', team: 't1' },
    b: { app: 'b', tier: 'y' },
    c: { app: 'c' },
    none: {},
  };

  it('=, == and in: the key must be there with one of the values', () => {
    expect(selected(['app=a'], objects)).toEqual(['a']);
    expect(selected(['app==b'], objects)).toEqual(['b']);
    expect(selected(['app in (a,b)'], objects)).toEqual(['a', 'b']);
  });

  it('!= and notin: an object without the key matches too, as in Kubernetes', () => {
    expect(selected(['tier!=x'], objects)).toEqual(['b', 'c', 'none']);
    expect(selected(['app notin (a,b)'], objects)).toEqual(['c', 'none']);
  });

  it('k and !k: whether the key is there', () => {
    expect(selected(['tier'], objects)).toEqual(['a', 'b']);
    expect(selected(['!team'], objects)).toEqual(['b', 'c', 'none']);
  });

  it('every requirement must hold, within one -l and across repeated ones', () => {
    expect(selected(['app in (a,b,c),!team'], objects)).toEqual(['b', 'c']);
    expect(selected(['app in (a,b,c)', '!team', 'tier!=y'], objects)).toEqual(['c']);
    expect(selected(['app=a,app=b'], objects)).toEqual([]);
  });

  it('an empty -l selects everything', () => {
    expect(selected([''], objects)).toEqual(['a', 'b', 'c', 'none']);
  });
});
