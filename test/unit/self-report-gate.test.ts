// The agent's gate on reports about objects (self-report-gate.ts): closed until the node's report
// about itself is written; a report held back meanwhile failed its reconcile, which backs off up
// to 10 s, so the opening wakes the agent (a full resync) instead of waiting that out.
import { describe, expect, it } from 'vitest';
import { SelfReportGate } from '../../pkg/agent/self-report-gate.js';

describe('SelfReportGate', () => {
  it('refuses reports until the node has reported itself, then wakes the agent once for what it held back', () => {
    let woken = 0;
    const gate = new SelfReportGate('n1', () => woken++);
    expect(() => gate.check('MacvlanNet', 'lan')).toThrow(/MacvlanNet lan: no report on it before node n1's report about itself is in etcd/);
    gate.selfReported();
    expect(woken).toBe(1);
    expect(() => gate.check('MacvlanNet', 'lan')).not.toThrow();
    gate.selfReported();
    expect(woken).toBe(1);
  });

  it('wakes nobody when nothing was held back (the usual start: the first beat comes before the workers)', () => {
    let woken = 0;
    const gate = new SelfReportGate('n1', () => woken++);
    gate.selfReported();
    expect(woken).toBe(0);
    expect(gate.passed).toBe(true);
  });
});
