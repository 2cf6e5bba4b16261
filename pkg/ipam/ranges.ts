// Sets of IPv4 addresses as sorted, disjoint, inclusive intervals. Pools are described as
// "this range minus those": interval arithmetic keeps that exact without listing addresses.
import { lastAddress, type Cidr } from '../ip/ipv4.js';

export interface Interval { first: number; last: number }

export function cidrInterval(c: Cidr): Interval {
  return { first: c.base, last: lastAddress(c) };
}

export function normalize(list: Interval[]): Interval[] {
  const s = list.filter((i) => i.first <= i.last).sort((a, b) => a.first - b.first);
  const out: Interval[] = [];
  for (const i of s) {
    const prev = out[out.length - 1];
    if (prev && i.first <= prev.last + 1) prev.last = Math.max(prev.last, i.last);
    else out.push({ ...i });
  }
  return out;
}

/** a minus b */
export function subtract(a: Interval[], b: Interval[]): Interval[] {
  const cut = normalize(b);
  const out: Interval[] = [];
  for (const i of normalize(a)) {
    let cur = i.first;
    for (const c of cut) {
      if (c.last < cur || c.first > i.last) continue;
      if (c.first > cur) out.push({ first: cur, last: c.first - 1 });
      cur = Math.max(cur, c.last + 1);
      if (cur > i.last) break;
    }
    if (cur <= i.last) out.push({ first: cur, last: i.last });
  }
  return out;
}

export function intersect(a: Interval[], b: Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const x of normalize(a)) for (const y of normalize(b)) {
    const first = Math.max(x.first, y.first);
    const last = Math.min(x.last, y.last);
    if (first <= last) out.push({ first, last });
  }
  return normalize(out);
}

export function contains(list: Interval[], ip: number): boolean {
  return list.some((i) => ip >= i.first && ip <= i.last);
}

export function overlaps(list: Interval[], x: Interval): boolean {
  return list.some((i) => i.first <= x.last && x.first <= i.last);
}

export function size(list: Interval[]): number {
  return list.reduce((n, i) => n + (i.last - i.first + 1), 0);
}

/** Lowest addresses of `ranges` not in `taken`, at most `n` of them. */
export function firstFree(ranges: Interval[], taken: ReadonlySet<number>, n: number): number[] {
  const out: number[] = [];
  for (const r of ranges) {
    for (let ip = r.first; ip <= r.last && out.length < n; ip++) if (!taken.has(ip)) out.push(ip);
    if (out.length >= n) break;
  }
  return out;
}
