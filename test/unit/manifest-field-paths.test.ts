// Field paths as errors print them: a map key holding a dot, a space or nothing at all was
// printed as more path (`metadata.labels.xnet.io/x`, `metadata.labels.`), so a user could not
// tell which key was meant. Such a key is written in brackets, as Kubernetes' field.Path writes
// a map key (`metadata.labels[xnet.io/x]`), and quoted when brackets alone would still hide it.
import { describe, expect, it } from 'vitest';
import { formatPath } from '../../pkg/api/validate.js';
import { decodeObject, UndecodableError } from '../../pkg/store/decode.js';
import { refuse } from './manifest-refuse.js';

describe('formatPath', () => {
  it('keeps plain keys and list indexes as users write them', () => {
    expect(formatPath(['metadata', 'labels', 'app'])).toBe('metadata.labels.app');
    expect(formatPath(['spec', 'exclude', 1])).toBe('spec.exclude[1]');
    expect(formatPath(['items', 0, 'metadata', 'labels', 'xnet.io~x/y_z-1'.replace('.', '')])).toBe('items[0].metadata.labels.xnetio~x/y_z-1');
    expect(formatPath(['metadata', 'labels', '7'])).toBe('metadata.labels.7');
    expect(formatPath([])).toBe('(document)');
  });

  it('writes a key holding a dot or a space in brackets, as field.Path writes a map key', () => {
    expect(formatPath(['metadata', 'labels', 'xnet.io/x'])).toBe('metadata.labels[xnet.io/x]');
    expect(formatPath(['metadata', 'annotations', 'a b', 'c'])).toBe('metadata.annotations[a b].c');
    expect(formatPath(['a.b'])).toBe('[a.b]');
  });

  it('quotes a key that brackets alone would hide: empty, a bracket, a quote, space at an end, or unseen characters', () => {
    expect(formatPath(['metadata', 'labels', ''])).toBe('metadata.labels[""]');
    expect(formatPath(['metadata', 'labels', 'a]b'])).toBe('metadata.labels["a]b"]');
    expect(formatPath(['metadata', 'labels', '[0]'])).toBe('metadata.labels["[0]"]');
    expect(formatPath(['metadata', 'labels', '"x"'])).toBe('metadata.labels["\\"x\\""]');
    expect(formatPath(['metadata', 'labels', ' x'])).toBe('metadata.labels[" x"]');
    expect(formatPath(['metadata', 'labels', 'a\tb'])).toBe('metadata.labels["a\\tb"]');
    expect(formatPath(['metadata', 'labels', 'a\u200bb'])).toBe('metadata.labels["a\\u200bb"]');
  });
});

describe('paths in manifest errors', () => {
  it('names a label key with a dot, an empty one and a spec key with a dot unambiguously', () => {
    const issues = refuse('apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: n1\n  labels:\n    "": a\n    "a.b": 3\nspec:\n  "ad.dress": 1\n');
    expect(issues.map((i) => [i.line, i.path])).toEqual([
      [6, 'metadata.labels[""]'],
      [7, 'metadata.labels[a.b]'],
      [9, 'spec[ad.dress]'],
    ]);
  });

  it('names a key given twice with a dot in brackets', () => {
    const issues = refuse('apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: n1\n  labels:\n    xnet.io/x: a\n    xnet.io/x: b\n');
    expect(issues.map((i) => [i.line, i.path])).toEqual([[7, 'metadata.labels[xnet.io/x]']]);
  });
});

describe('paths in what a read from etcd skips', () => {
  it('names a stored label value under a dotted key in brackets', () => {
    const stored = { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'n1', labels: { 'xnet.io/rack': 7 } } };
    const err = (() => { try { decodeObject('Node', 'n1', '/xnet/nodes/n1', JSON.stringify(stored), 1); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(UndecodableError);
    expect((err as UndecodableError).detail).toMatch(/^metadata\.labels\[xnet\.io\/rack\]: /);
  });
});
