// One node's MacvlanNet reports make the leader look at its MacvlanNets (and write the status
// every node's agent receives) at most at a fixed rate, whatever the node's own write rate
// (pkg/controller/report-budget.ts). A clock the test moves stands in for the monotonic one.
import { describe, expect, it } from 'vitest';
import { ReportBudget } from '../../pkg/controller/report-budget.js';

function budget(burst: number, perSecond: number) {
  const clock = { t: 1000 };
  const lines: Array<{ message: string; meta?: object }> = [];
  const log = { level: 'warn', error: () => undefined, info: () => undefined, debug: () => undefined, log: () => undefined, warn: (message: string, meta?: object) => { lines.push({ message, meta }); } };
  return { b: new ReportBudget(log, burst, perSecond, () => clock.t), clock, lines };
}

describe('the report budget of a node', () => {
  it('takes a burst at once, then one look per 1/rate however many reports come, and logs the node once', () => {
    const { b, clock, lines } = budget(3, 5);
    expect([b.delayFor('h1'), b.delayFor('h1'), b.delayFor('h1')]).toEqual([0, 0, 0]);
    // 1,000 reports in the next second: each waits for the one deferred look they share
    const looks = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      clock.t += 1;
      const d = b.delayFor('h1');
      expect(d).toBeGreaterThan(0);
      looks.add(clock.t + d);
    }
    // at 5 a second, 1 s holds 5 deferred looks (the first due 200 ms after the burst)
    expect(looks.size).toBeLessThanOrEqual(6);
    expect(lines).toHaveLength(1);
    expect(lines[0].meta).toMatchObject({ node: 'h1', perSecond: 5 });
  });

  it('holds back no other node, and takes the node at once again once it has been quiet', () => {
    const { b, clock, lines } = budget(2, 5);
    b.delayFor('h1'); b.delayFor('h1');
    expect(b.delayFor('h1')).toBe(200);
    expect(b.delayFor('h2')).toBe(0);
    clock.t += 1000;
    expect(b.delayFor('h1')).toBe(0);
    expect(lines.map((l) => (l.meta as { node: string }).node)).toEqual(['h1']);
  });
});
