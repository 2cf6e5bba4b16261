// The agent counts an external mark's quarantine from when the controller made it
// (status.nodes[].externalMarkedAt, Unix seconds), so a restart does not start it again; the
// time is untrusted: one ahead of the agent's clock is now, one missing, undecodable or not
// paired with the marks is as none (counted from when the agent first sees the mark, as with a
// controller before the field). Pure: the agent's reading of its part, and the schedule it gives
// (real etcd and the controller: test/integration/docker-ipam-external-restart.test.ts).
import { describe, expect, it } from 'vitest';
import { ExternalMarks, QUARANTINE_JITTER, markAges } from '../../pkg/dockeripam/external-marks.js';
import { followMarks, readMarks } from '../../pkg/agent/mark-times.js';
import { monotonicMs } from '../../pkg/runtime/clock.js';

const Q = 600_000;
const NOW = Date.UTC(2026, 11, 6, 16, 0, 0);
const S = NOW / 1000;

describe('the age of an external mark, from the time the controller listed', () => {
  it('is how long ago it was made, and 0 for a time ahead of the agent\'s clock', () => {
    const ages = markAges(['10.9.0.1', '10.9.0.2', '10.9.0.3'], [S - 900, S + 3600, S], NOW);
    expect([...ages]).toEqual([['10.9.0.1', 900_000], ['10.9.0.2', 0], ['10.9.0.3', 0]]);
  });

  it('is unknown for a mark without a time (0), with one that is no count, or when the times do not pair with the marks', () => {
    expect([...markAges(['10.9.0.1', '10.9.0.2', '10.9.0.3', '10.9.0.4'], [0, 'soon', 1.5, -7], NOW)]).toEqual([]);
    expect([...markAges(['10.9.0.1', '10.9.0.2'], [S - 900], NOW)]).toEqual([]);
    expect([...markAges(['10.9.0.1'], undefined, NOW)]).toEqual([]);
  });
});

describe('the marks an agent reads from its part', () => {
  it('keeps each time with its address: an entry that is no address goes with its own', () => {
    expect(readMarks({ external: ['10.9.0.1', 'nope', '10.9.0.3'], externalMarkedAt: [S - 1, S - 2, 'x'] }))
      .toEqual({ external: ['10.9.0.1', '10.9.0.3'], externalMarkedAt: [S - 1, 0] });
  });

  it('drops times that do not pair with the marks, and reads the marks of a controller before the field as they are', () => {
    expect(readMarks({ external: ['10.9.0.1', '10.9.0.3'], externalMarkedAt: [S - 1] })).toEqual({ external: ['10.9.0.1', '10.9.0.3'] });
    expect(readMarks({ external: ['10.9.0.1'], externalMarkedAt: 'yesterday' })).toEqual({ external: ['10.9.0.1'] });
    expect(readMarks({ external: ['10.9.0.1'] })).toEqual({ external: ['10.9.0.1'] });
    expect(readMarks({})).toEqual({});
  });
});

describe('an agent that follows its marks', () => {
  const follow = (externalMarkedAt?: number[]) => {
    const book = { marks: new ExternalMarks(Q, () => 0.5) };
    followMarks(book, 'lan', { external: ['10.9.0.1'], ...(externalMarkedAt ? { externalMarkedAt } : {}) }, NOW);
    return book.marks;
  };
  const jitter = Q * QUARANTINE_JITTER * 0.5;

  it('probes a mark made a quarantine (and its jitter) ago at once', () => {
    expect(follow([S - (Q + jitter) / 1000]).dueNow('lan', monotonicMs(), 8)).toEqual(['10.9.0.1']);
  });

  it('probes one made a minute ago a quarantine after it was made, jitter kept', () => {
    const marks = follow([S - 60]);
    const t = monotonicMs();
    expect(marks.dueNow('lan', t + Q + jitter - 60_000 - 1000, 8)).toEqual([]);
    expect(marks.dueNow('lan', t + Q + jitter - 60_000 + 1000, 8)).toEqual(['10.9.0.1']);
  });

  it('counts a mark dated ahead of its clock, or without a time, from now: a whole quarantine', () => {
    for (const marks of [follow([S + 86_400]), follow(), follow([0])]) {
      const t = monotonicMs();
      expect(marks.dueNow('lan', t + Q + jitter - 1000, 8)).toEqual([]);
      expect(marks.dueNow('lan', t + Q + jitter + 1000, 8)).toEqual(['10.9.0.1']);
    }
  });
});

describe('a garbled time in the MacvlanNet status the agent decodes', () => {
  it('is read as no time: the status and the other marks\' times still decode', async () => {
    const { macvlanNodeStatus } = await import('../../pkg/api/types.js');
    const part = macvlanNodeStatus.parse({ name: 'h1', external: ['10.9.0.1', '10.9.0.2', '10.9.0.3', '10.9.0.4'], externalMarkedAt: [S - 900, -1, 'x', 1.5] });
    expect(part.externalMarkedAt).toEqual([S - 900, 0, 0, 0]);
    expect(readMarks(part).externalMarkedAt).toEqual([S - 900, 0, 0, 0]);
  });
});
