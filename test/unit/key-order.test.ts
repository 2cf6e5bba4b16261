// sameJson (pkg/api/key-order.ts) decides whether the controller writes a status again and
// whether apply writes an object: a false "same" would leave a stale status (or object) for
// good, a false "different" rewrites every NIC's status at each term start. It must agree with
// comparing the JSON the two would be stored as, keys sorted (sortKeys, what xctl diff shows).
import { describe, expect, it } from 'vitest';
import { sameJson, sortKeys } from '../../pkg/api/key-order.js';

const stored = { ip: '10.64.0.2', prefixLength: 12, hostSubnet: 'default-host-1', conditions: [{ type: 'Allocated', status: 'True', reason: 'Allocated', message: 'x', lastTransitionTime: '2026-12-02T07:00:00.000Z' }] };

describe('sameJson', () => {
  it('is true for the same status with its keys in another order, at every level', () => {
    const reordered = { conditions: [{ lastTransitionTime: '2026-12-02T07:00:00.000Z', message: 'x', reason: 'Allocated', status: 'True', type: 'Allocated' }], hostSubnet: 'default-host-1', prefixLength: 12, ip: '10.64.0.2' };
    expect(sameJson(stored, reordered)).toBe(true);
    expect(sameJson(JSON.parse(JSON.stringify(stored)), stored)).toBe(true);
  });

  it('counts a key holding undefined as absent, as JSON.stringify does', () => {
    expect(sameJson({ ...stored, gateway: undefined }, stored)).toBe(true);
    expect(sameJson(stored, { ...stored, gateway: undefined })).toBe(true);
  });

  it('is false for a changed, added or removed field, at any depth', () => {
    expect(sameJson({ ...stored, ip: '10.64.0.3' }, stored)).toBe(false);
    expect(sameJson({ ...stored, gateway: '10.64.0.1' }, stored)).toBe(false);
    expect(sameJson(stored, { ...stored, gateway: '10.64.0.1' })).toBe(false);
    const { hostSubnet: _, ...without } = stored;
    expect(sameJson(without, stored)).toBe(false);
    expect(sameJson(stored, without)).toBe(false);
    expect(sameJson({ ...stored, conditions: [{ ...stored.conditions[0], status: 'False' }] }, stored)).toBe(false);
    expect(sameJson({ ...stored, conditions: [...stored.conditions, stored.conditions[0]] }, stored)).toBe(false);
  });

  it('tells values of different types apart', () => {
    expect(sameJson({ n: 12 }, { n: '12' })).toBe(false);
    expect(sameJson({ a: [] }, { a: {} })).toBe(false);
    expect(sameJson({ a: null }, { a: {} })).toBe(false);
    expect(sameJson(undefined, {})).toBe(false);
    expect(sameJson(undefined, undefined)).toBe(true);
  });

  it('agrees with comparing sorted JSON on a set of generated statuses', () => {
    const canonical = (v: unknown): string => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));
    const variants = [stored, { ...stored, ip: '10.64.0.9' }, { ...stored, conditions: [] }, { ...stored, extra: { a: 1, b: [1, 2] } }, { ...stored, extra: { b: [1, 2], a: 1 } }, { ...stored, extra: { a: 1, b: [2, 1] } }];
    for (const a of variants) for (const b of variants) expect(sameJson(a, b)).toBe(canonical(a) === canonical(b));
  });
});

describe('sortKeys', () => {
  it('prints two objects alike exactly when sameJson calls them the same (what xctl diff shows)', () => {
    const labels = (order: string[]) => Object.fromEntries(order.map((k) => [k, `v-${k}`]));
    const variants = [
      { metadata: { labels: labels(['b', 'a']) }, spec: { nodeSelector: { matchLabels: labels(['y', 'x']) } } },
      { spec: { nodeSelector: { matchLabels: labels(['x', 'y']) } }, metadata: { labels: labels(['a', 'b']) } },
      { metadata: { labels: labels(['a', 'c']) }, spec: { nodeSelector: { matchLabels: labels(['x', 'y']) } } },
      { metadata: { labels: labels(['a', 'b']) }, spec: { nodeSelector: { matchLabels: labels(['y']) } } },
      { metadata: { labels: labels(['a', 'b']) }, spec: { list: [labels(['b', 'a']), labels(['a'])] } },
      { metadata: { labels: labels(['b', 'a']) }, spec: { list: [labels(['a', 'b']), labels(['a'])] } },
      { metadata: { labels: labels(['b', 'a']) }, spec: { list: [labels(['a']), labels(['a', 'b'])] } },
    ];
    for (const a of variants) {
      for (const b of variants) expect(JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b))).toBe(sameJson(a, b));
    }
    expect(sameJson(variants[0], variants[1])).toBe(true);
    expect(sameJson(variants[4], variants[6])).toBe(false);
  });
});
