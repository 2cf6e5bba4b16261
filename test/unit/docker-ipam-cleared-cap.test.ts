// Found in review: a re-probe pass may take `cleared` past MAX_CLEARED, and a report listing more
// than MAX_CLEARED does not decode (the controller ignores the node's whole report).
import { describe, expect, it } from 'vitest';
import { ExternalMarks } from '../../pkg/dockeripam/external-marks.js';
import { ExternalRecheck, RECHECKS_PER_PASS, recheckTickMs } from '../../pkg/dockeripam/external-recheck.js';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import { MAX_CLEARED, decodeReport } from '../../pkg/dockeripam/report.js';
import { createLogger } from '../../pkg/log.js';

const log = createLogger('agent');
log.level = 'error';
const A = (i: number) => `10.9.${i >> 8}.${i & 255}`;
const Q = 600_000;

describe('cleared marks stay within MAX_CLEARED', () => {
  it('a pass begun with MAX_CLEARED - 6 cleared does not clear past MAX_CLEARED, and the report still decodes', async () => {
    const marks = new ExternalMarks(Q, () => 0);
    const book = new AddressBook(new MemoryJournal(), () => {}, marks);
    book.setPool('lan', [A(1000)], { subnet: '10.9.0.0/20' });
    const all = Array.from({ length: 400 }, (_, i) => A(i + 1));
    marks.follow('lan', all, -Q);
    // the controller has not taken the node's cleared marks yet (down, or between rounds):
    // 250 found free so far (a pass in which some still answered leaves a count not a multiple of 8)
    for (const ip of all.slice(0, MAX_CLEARED - 6)) marks.clear('lan', ip);
    const r = new ExternalRecheck({ marks, log, tickMs: recheckTickMs(Q), changed: () => {}, probe: async () => 'free' });
    await r.pass();
    r.close();
    expect.soft(marks.cleared('lan').length, 'cleared marks listed in the report').toBeLessThanOrEqual(MAX_CLEARED);
    expect.soft(decodeReport(JSON.parse(JSON.stringify(book.report('lan')))), 'the node\'s report decodes').toBeDefined();
    expect(RECHECKS_PER_PASS).toBe(8);
  });
});

describe('ExternalMarks.clear at MAX_CLEARED', () => {
  it('refuses a mark past the cap (it stays due), and clears one again that is listed already', () => {
    const marks = new ExternalMarks(Q, () => 0);
    const all = Array.from({ length: MAX_CLEARED + 1 }, (_, i) => A(i + 1));
    marks.follow('lan', all, -Q);
    for (const ip of all.slice(0, MAX_CLEARED)) expect(marks.clear('lan', ip)).toBe(true);
    expect(marks.clear('lan', all[MAX_CLEARED])).toBe(false);
    expect(marks.clear('lan', all[0])).toBe(true);
    expect(marks.cleared('lan')).toHaveLength(MAX_CLEARED);
  });
});
