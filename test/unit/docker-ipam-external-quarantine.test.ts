// An address this node's ARP probe marked `external` is not held for good: after a quarantine
// (plus jitter) the agent probes it again, reports it cleared when nobody answers, and starts
// the quarantine again when someone still does. Pure: the schedule, the book's report, and one
// pass of re-probes with probes that answer as the test says (the kernel's side is
// test/integration/docker-ipam-external-recheck.test.ts).
import { describe, expect, it } from 'vitest';
import { ExternalMarks, QUARANTINE_JITTER, recheckAt } from '../../pkg/dockeripam/external-marks.js';
import { ExternalRecheck, RECHECKS_PER_PASS, recheckTickMs } from '../../pkg/dockeripam/external-recheck.js';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { MAX_CLEARED, decodeReport } from '../../pkg/dockeripam/report.js';
import { createLogger } from '../../pkg/log.js';
import type { ProbeResult } from '../../pkg/dockeripam/arp.js';

const log = createLogger('agent');
log.level = 'error';
const A = (i: number) => `10.9.${i >> 8}.${i & 255}`;
const Q = 600_000;

describe('the quarantine of an external mark', () => {
  it('is due after the quarantine plus at most 20 % of it, at random', () => {
    expect(recheckAt(1000, Q, 0)).toBe(1000 + Q);
    expect(recheckAt(1000, Q, 0.5)).toBe(1000 + Q + Q * QUARANTINE_JITTER / 2);
    expect(recheckAt(1000, Q, 0.999999)).toBeLessThanOrEqual(1000 + Q * (1 + QUARANTINE_JITTER));
    // a random source out of range stays inside the window
    expect(recheckAt(1000, Q, 7)).toBe(1000 + Q * (1 + QUARANTINE_JITTER));
    expect(recheckAt(1000, Q, -1)).toBe(1000 + Q);
  });

  it('counts from when the mark is first seen, forgets marks no longer listed, and puts the longest due first', () => {
    const marks = new ExternalMarks(Q, () => 0);
    marks.follow('lan', [A(5)], 0);
    marks.follow('lan', [A(5), A(6)], 1000);
    expect(marks.dueNow('lan', Q - 1, 8)).toEqual([]);
    expect(marks.dueNow('lan', Q, 8)).toEqual([A(5)]);
    expect(marks.dueNow('lan', Q + 1000, 8)).toEqual([A(5), A(6)]);
    expect(marks.dueNow('lan', Q + 1000, 1)).toEqual([A(5)]);
    // seen again later: its quarantine does not start over
    marks.follow('lan', [A(5), A(6)], Q);
    expect(marks.dueNow('lan', Q + 1000, 8)).toEqual([A(5), A(6)]);
    marks.follow('lan', [A(6)], Q);
    expect(marks.dueNow('lan', Q + 1000, 8)).toEqual([A(6)]);
  });

  it('starts again when the probe is answered; a mark found free is listed cleared until the controller drops it', () => {
    const marks = new ExternalMarks(Q, () => 0);
    marks.follow('lan', [A(5), A(6)], 0);
    marks.rearm('lan', A(5), Q);
    expect(marks.dueNow('lan', Q, 8)).toEqual([A(6)]);
    expect(marks.dueNow('lan', 2 * Q, 8)).toEqual([A(6), A(5)]);
    expect(marks.clear('lan', A(6))).toBe(true);
    expect(marks.cleared('lan')).toEqual([A(6)]);
    // not probed again while it waits for the controller
    expect(marks.dueNow('lan', 3 * Q, 8)).toEqual([A(5)]);
    // the controller freed it: no longer a mark, no longer cleared (the report changed)
    expect(marks.follow('lan', [A(5)], 3 * Q)).toBe(true);
    expect(marks.cleared('lan')).toEqual([]);
    // an address that is no mark of this node is never cleared
    expect(marks.clear('lan', A(7))).toBe(false);
  });

  it('lists at most MAX_CLEARED as cleared: no more are probed until the controller took those', () => {
    const marks = new ExternalMarks(Q, () => 0);
    const all = Array.from({ length: MAX_CLEARED + 2 }, (_, i) => A(i + 1));
    marks.follow('lan', all, 0);
    for (const ip of all.slice(0, MAX_CLEARED)) marks.clear('lan', ip);
    expect(marks.dueNow('lan', Q, 8)).toEqual([]);
  });
});

describe('the report of a book with marks found free', () => {
  it('lists them as cleared only while there are some, and none the pool holds again', () => {
    const book = new AddressBook(new MemoryJournal(), () => {}, new ExternalMarks(Q, () => 0));
    book.setPool('lan', [A(10), A(11)], { subnet: '10.9.0.0/24' });
    expect(book.report('lan')).not.toHaveProperty('cleared');
    book.marks.follow('lan', [A(5), A(11)], 0);
    book.marks.clear('lan', A(5));
    book.marks.clear('lan', A(11));
    const report = book.report('lan');
    expect(report.cleared).toEqual([A(5)]);
    expect(decodeReport(JSON.parse(JSON.stringify(report)))?.cleared).toEqual([A(5)]);
  });
});

describe('a pass of re-probes', () => {
  function recheck(answers: (ip: string) => ProbeResult | Promise<ProbeResult>) {
    const marks = new ExternalMarks(Q, () => 0);
    const probed: string[] = [];
    const changed: string[] = [];
    const r = new ExternalRecheck({ marks, log, tickMs: recheckTickMs(Q), changed: (mvn) => changed.push(mvn), probe: async (_mvn, ip) => { probed.push(ip); return answers(ip); } });
    return { marks, probed, changed, r };
  }

  it('probes at most RECHECKS_PER_PASS due marks, clears those nobody answers for and keeps the others for another quarantine', async () => {
    const { marks, probed, changed, r } = recheck((ip) => (ip === A(1) ? 'answered' : ip === A(2) ? 'unavailable' : 'free'));
    const all = Array.from({ length: RECHECKS_PER_PASS + 3 }, (_, i) => A(i + 1));
    marks.follow('lan', all, -Q);
    expect(await r.pass()).toBe(RECHECKS_PER_PASS);
    expect(probed).toEqual(all.slice(0, RECHECKS_PER_PASS));
    expect(marks.cleared('lan')).toEqual(all.slice(2, RECHECKS_PER_PASS));
    expect(changed).toEqual(Array(RECHECKS_PER_PASS - 2).fill('lan'));
    // the next pass takes the rest; the answered and the unlooked-at wait a new quarantine
    expect(await r.pass()).toBe(3);
    expect(probed.slice(RECHECKS_PER_PASS)).toEqual(all.slice(RECHECKS_PER_PASS));
    expect(await r.pass()).toBe(0);
    r.close();
  });

  it('does not overlap the pass before, and drops what a probe in flight says once closed', async () => {
    let finish!: (v: ProbeResult) => void;
    const { marks, probed, r } = recheck(() => new Promise<ProbeResult>((res) => { finish = res; }));
    marks.follow('lan', [A(1)], -Q);
    const first = r.pass();
    await new Promise((res) => setImmediate(res));
    expect(await r.pass()).toBe(0);
    r.close();
    finish('free');
    await first;
    expect(probed).toEqual([A(1)]);
    expect(marks.cleared('lan')).toEqual([]);
  });

  it('looks for due marks every quarter of the quarantine, between 250 ms and 30 s', () => {
    expect(recheckTickMs(Q)).toBe(30_000);
    expect(recheckTickMs(2000)).toBe(500);
    expect(recheckTickMs(100)).toBe(250);
  });
});
