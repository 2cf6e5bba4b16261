// dockerIPAM xnet: a pre-claim a node's ARP probe found answering is marked `external` (someone
// outside xnet uses it: handed to no container until that node's agent, probing it again after
// a quarantine, finds it free, or the Node goes). The status said so and nothing else: the
// controller now records a Warning on the MacvlanNet, once, naming the address and the node,
// where `xctl get events` and `describe` show it; the node's part lists its marks, and a mark
// its report says is free again (`cleared`) is freed, told in a Normal event. Real etcd, the
// real controller; the agent is its status key, written as book.ts writes it (the agent's own
// side, with the kernel: docker-ipam-external-recheck.test.ts).
import { describe, expect, it } from 'vitest';
import { listEvents } from '../../pkg/events/read.js';
import { eventually, statusOf } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';

const fx = useMacvlanParts();

describe('a pre-claim that answered a node\'s ARP probe', () => {
  it('is marked external and told once in a Warning naming the address and the node', async () => {
    await fx.segment('probed', { subnet: '198.19.80.0/24', ipRange: '198.19.80.8/29', dockerIPAM: 'xnet', hostShim: true }, 'probed', ['ex-1']);
    const answered = await fx.firstAtHand('probed', 'ex-1');
    await fx.report('probed', 'ex-1', { external: [answered] });
    await eventually(async () => (await fx.claimed('probed')).get(answered)?.role === 'external', `${answered} marked external`);
    const events = async () => (await listEvents(fx.etcd.client(), fx.prefix, { kind: 'MacvlanNet', name: 'probed' })).items.filter((e) => e.reason === 'AddressInUseOutside');
    const [ev] = await eventually(async () => { const e = await events(); return e.length ? e : undefined; }, 'the Warning');
    expect(ev.type).toBe('Warning');
    expect(ev.message).toBe(`${answered} answered an ARP probe of node ex-1: something outside xnet uses it; handed to no container until that node's agent `
      + 'probes again after its quarantine (xnet-agent --external-quarantine) and nobody answers, or the Node is deleted (status.external)');
    // the agent reports the same again: no second mark, no second event
    await fx.report('probed', 'ex-1', { external: [answered] });
    await new Promise((r) => setTimeout(r, 500));
    expect((await events()).map((e) => e.count)).toEqual([1]);
    await fx.expectClean();
  }, 60_000);

  it('is listed in its node\'s part, and freed once that node\'s report says it is free again (cleared), told in a Normal event', async () => {
    await fx.segment('cleared', { subnet: '198.19.81.0/24', ipRange: '198.19.81.8/29', dockerIPAM: 'xnet', hostShim: true }, 'cleared', ['cl-1', 'cl-2']);
    await fx.report('cleared', 'cl-2', {});
    const answered = await fx.firstAtHand('cleared', 'cl-1');
    await fx.report('cleared', 'cl-1', { external: [answered] });
    await eventually(async () => (await fx.partOf('cleared', 'cl-1'))?.external?.[0] === answered, `${answered} listed in cl-1's part as its mark`);
    expect((await fx.partOf('cleared', 'cl-2'))?.external).toBeUndefined();
    // another node says it is free: not its mark, nothing changes
    await fx.report('cleared', 'cl-2', { cleared: [answered] });
    await new Promise((r) => setTimeout(r, 500));
    expect((await fx.claimed('cleared')).get(answered)?.role).toBe('external');
    // the node whose probe marked it found it free again
    await fx.report('cleared', 'cl-1', { cleared: [answered] });
    await eventually(async () => (await fx.claimed('cleared')).get(answered)?.role !== 'external' || undefined, `${answered}'s mark freed`);
    const status = statusOf(await fx.store.get('MacvlanNet', 'cleared')) as { external?: string[] };
    expect(status.external).toBeUndefined();
    expect((await fx.partOf('cleared', 'cl-1'))?.external).toBeUndefined();
    const events = async () => (await listEvents(fx.etcd.client(), fx.prefix, { kind: 'MacvlanNet', name: 'cleared' })).items.filter((e) => e.reason === 'AddressFreeAgain');
    const [ev] = await eventually(async () => { const e = await events(); return e.length ? e : undefined; }, 'the Normal event');
    expect(ev.type).toBe('Normal');
    expect(ev.message).toBe(`${answered} no longer answers ARP probes of node cl-1 (probed again after its quarantine): free again, handed out as any free address `
      + '(each holder\'s agent probes it before use)');
    await fx.expectClean();
  }, 60_000);
});
