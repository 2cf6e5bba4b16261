// A worker is "stuck" by how long its reconcile has really run, not by the wall clock: a clock
// set an hour forward (NTP, an admin, a resumed VM) must not report every running worker stuck
// (the Node would turn Ready=False AgentStuck for nothing).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StuckWatch } from '../../pkg/agent/stuck.js';
import { createLogger } from '../../pkg/log.js';

afterEach(() => { vi.useRealTimers(); });

describe('stuck workers', () => {
  it('are not reported because the wall clock was put an hour forward', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const log = createLogger('test'); log.level = 'error';
    const w = new StuckWatch(120_000, log);
    w.start('routes');
    vi.setSystemTime(Date.now() + 3_600_000);
    expect(w.check()).toEqual([]);
  });

  it('are reported once the budget has really passed', async () => {
    const log = createLogger('test'); log.level = 'error';
    const w = new StuckWatch(20, log);
    w.start('routes');
    await new Promise((r) => setTimeout(r, 40));
    expect(w.check().map((s) => s.key)).toEqual(['routes']);
  });
});
