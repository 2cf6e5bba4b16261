// dockerIPAM xnet: the quarantine of an `external` mark survives an agent restart. The agent
// counted it from when it first saw the mark, in memory, so an agent restarted more often than
// --external-quarantine never probed its marks again. Now the controller records when it marked
// the address (the claim's `markedAt`, the node's part `externalMarkedAt`), and an agent started
// after the quarantine is over probes the mark in its first pass. Real etcd, the real controller;
// the node's report is written as its agent writes it, and the "restarted agent" is the book's
// marks and one pass of re-probes (what the agent runs: pkg/agent/ipam-host.ts), fed by the
// agent's own reading of its part from etcd. Short quarantine (2 s), as
// docker-ipam-external-recheck.test.ts, whose agent and kernel stay up all along.
import { describe, expect, it } from 'vitest';
import type { MacvlanNet } from '../../pkg/api/index.js';
import { macvlanNodeStatus } from '../../pkg/agent/desired.js';
import { followMarks } from '../../pkg/agent/mark-times.js';
import { ExternalMarks, QUARANTINE_JITTER } from '../../pkg/dockeripam/external-marks.js';
import { ExternalRecheck } from '../../pkg/dockeripam/external-recheck.js';
import { createLogger } from '../../pkg/log.js';
import { eventually } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';

const fx = useMacvlanParts();
const QUARANTINE_MS = 2000;
const log = createLogger('agent');
log.level = 'error';

/** The agent started now: its book follows its part as read from etcd, and one pass of re-probes looks at what is due; the addresses probed. */
async function restartedAgentPass(mvn: string, node: string): Promise<{ probed: string[]; cleared: string[] }> {
  const m = await fx.store.get('MacvlanNet', mvn) as MacvlanNet;
  const book = { marks: new ExternalMarks(QUARANTINE_MS) };
  followMarks(book, mvn, macvlanNodeStatus(m, node));
  const probed: string[] = [];
  const recheck = new ExternalRecheck({ marks: book.marks, probe: async (_mvn, ip) => { probed.push(ip); return 'free'; }, changed: () => undefined, log, tickMs: 1000 });
  await recheck.pass();
  recheck.close();
  return { probed, cleared: book.marks.cleared(mvn) };
}

describe('an external mark made a quarantine ago', () => {
  it('is probed again in the first pass of an agent started since, which reports it cleared, and the controller frees it', async () => {
    await fx.segment('restarted', { subnet: '198.19.82.0/24', ipRange: '198.19.82.8/29', dockerIPAM: 'xnet', hostShim: true }, 'restarted', ['rs-1']);
    const answered = await fx.firstAtHand('restarted', 'rs-1');
    const before = Math.floor(Date.now() / 1000);
    await fx.report('restarted', 'rs-1', { external: [answered] });
    const claim = await eventually(async () => { const c = (await fx.claimed('restarted')).get(answered); return c?.role === 'external' ? c as typeof c & { markedAt?: number } : undefined; }, `${answered} marked external`);
    // the time of the mark is in etcd: in the claim, and next to the address in the node's part
    expect(claim.markedAt).toBeGreaterThanOrEqual(before);
    expect(claim.markedAt).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    await eventually(async () => (await fx.partOf('restarted', 'rs-1'))?.external?.[0] === answered, `${answered} listed in rs-1's part`);
    expect((await fx.partOf('restarted', 'rs-1') as { externalMarkedAt?: number[] }).externalMarkedAt).toEqual([claim.markedAt]);
    // an agent started right after the mark waits its quarantine: nothing due in its first pass
    expect((await restartedAgentPass('restarted', 'rs-1')).probed).toEqual([]);
    // a quarantine (and its jitter, and the second the time is rounded to) after the mark
    const over = (claim.markedAt! + 1) * 1000 + QUARANTINE_MS * (1 + QUARANTINE_JITTER);
    await new Promise((r) => setTimeout(r, Math.max(0, over - Date.now())));
    // an agent started now probes it at once, rather than a whole quarantine from now
    const pass = await restartedAgentPass('restarted', 'rs-1');
    expect(pass.probed).toEqual([answered]);
    expect(pass.cleared).toEqual([answered]);
    // its report says so, and the controller frees the mark
    await fx.report('restarted', 'rs-1', { cleared: pass.cleared });
    await eventually(async () => (await fx.claimed('restarted')).get(answered)?.role !== 'external' || undefined, `${answered}'s mark freed`);
    expect((await fx.partOf('restarted', 'rs-1'))?.external).toBeUndefined();
    await fx.expectClean();
  }, 60_000);
});
