// `docker run --ip X` on node A while X is node B's pre-claim (dockerIPAM xnet): the controller
// asks B for X back by name (status.nodes[].giveBack), B gives it back only when no container
// holds it there, and A's plugin refuses at once only what is held for good. The pure pieces;
// test/integration/docker-ipam-give-back.test.ts runs them with a real etcd and controller.
import { describe, expect, it } from 'vitest';
import { MAX_GIVE_BACK, giveBackField, planGiveBacks, preClaimRefusal, type GiveBackInput } from '../../pkg/controller/macvlan-give-back.js';
import { askedByName } from '../../pkg/controller/macvlan-reserved.js';
import { givenBack } from '../../pkg/dockeripam/give-back.js';
import { askedBackFrom, notGivenBackWhy, otherHolderIn } from '../../pkg/dockeripam/other-nodes.js';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { MemoryJournal } from '../../pkg/dockeripam/journal.js';
import type { NodeIpamReport } from '../../pkg/dockeripam/report.js';
import { macvlanNodeStatus } from '../../pkg/agent/desired.js';
import { API_VERSION, type MacvlanNet } from '../../pkg/api/index.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';

const ip = parseIPv4;
const report = (r: Partial<NodeIpamReport>): NodeIpamReport => ({ assigned: [], returned: [], external: [], requested: [], want: 0, ...r });

/** h1 asks by name; h2 holds .20-.29 (.21 in use, .22 returned, .23 external); h3's agent does not report and holds .30. */
function input(requested: string[], more: Partial<GiveBackInput> = {}): GiveBackInput {
  const reports: Record<string, NodeIpamReport> = {
    h1: report({ requested }),
    h2: report({ assigned: [{ ip: '10.9.0.21' }], returned: ['10.9.0.22'], external: ['10.9.0.23'] }),
  };
  return {
    nodes: ['h1', 'h2', 'h3'],
    report: (n) => reports[n],
    holderOf: (a) => (a >= ip('10.9.0.20') && a <= ip('10.9.0.29') ? 'h2' : a === ip('10.9.0.30') ? 'h3' : a === ip('10.9.0.40') ? 'h1' : undefined),
    reporting: (n) => n !== 'h3',
    ...more,
  };
}

describe('planGiveBacks: what the controller asks back of whom', () => {
  it('asks the holder for an idle pre-claim, not for one in use, already going, held by a silent node or the asker\'s own', () => {
    const g = planGiveBacks(input(['10.9.0.24', '10.9.0.21', '10.9.0.22', '10.9.0.23', '10.9.0.30', '10.9.0.40', '10.9.0.99']));
    expect([...g.asked]).toEqual([['h2', [ip('10.9.0.24')]]]);
    expect(giveBackField(g, 'h2')).toEqual({ giveBack: ['10.9.0.24'] });
    expect(giveBackField(g, 'h1')).toEqual({});
    // the asker waits for what is asked back or already going; the rest is refused
    expect([...g.coming].map(formatIPv4).sort()).toEqual(['10.9.0.22', '10.9.0.23', '10.9.0.24']);
    expect([...g.inUse].map(formatIPv4)).toEqual(['10.9.0.21']);
    // no other node's refill takes what a node asks for by name, the moment it is free
    expect(g.wanted.size).toBe(7);
  });

  it('reserves nothing for a node whose agent does not report: its request ended with its agent', () => {
    const silent = input([], { report: (n) => (n === 'h3' ? report({ requested: ['10.9.0.50'] }) : n === 'h1' ? report({ requested: ['10.9.0.51'] }) : undefined) });
    expect([...planGiveBacks(silent).wanted].map(formatIPv4)).toEqual(['10.9.0.51']);
  });

  it('asks at most MAX_GIVE_BACK of one node at a time, lowest first; the rest wait unrefused', () => {
    const asked = Array.from({ length: 10 }, (_, i) => `10.9.0.${29 - i}`).filter((a) => !['10.9.0.21', '10.9.0.22', '10.9.0.23'].includes(a));
    const g = planGiveBacks(input(asked));
    expect(g.asked.get('h2')).toHaveLength(Math.min(MAX_GIVE_BACK, asked.length));
    expect(g.asked.get('h2')).toEqual([...g.asked.get('h2')!].sort((a, b) => a - b));
    for (const a of asked) expect(preClaimRefusal(g, ip(a), 'h2', true)).toBeUndefined();
  });

  it('reserves every address a node asks for by name while its report lists it (no NIC pick, shim or refill takes one)', () => {
    const reports: Record<string, NodeIpamReport> = { h1: report({ requested: ['10.9.0.24', '10.9.0.99'] }), h2: report({ requested: ['10.9.0.24', '10.9.0.5'] }) };
    const reserved = askedByName(['h1', 'h2', 'h3'], (n) => reports[n]);
    expect([...reserved].sort((a, b) => a - b).map(formatIPv4)).toEqual(['10.9.0.5', '10.9.0.24', '10.9.0.99']);
    // the round's own set is the same one
    expect(planGiveBacks(input(['10.9.0.24', '10.9.0.99'])).wanted).toEqual(askedByName(['h1'], () => report({ requested: ['10.9.0.24', '10.9.0.99'] })));
    // the request over (granted, withdrawn, refused, timed out): its report no longer lists it, nothing stays reserved
    expect(askedByName(['h1', 'h2'], () => report({})).size).toBe(0);
  });

  it('says why it is not granted: in use on the holder, a holder that cannot answer, else pre-claimed', () => {
    const g = planGiveBacks(input(['10.9.0.21', '10.9.0.30']));
    expect(preClaimRefusal(g, ip('10.9.0.21'), 'h2', true)).toBe('in use by a container on node "h2" (running, or stopped and keeping its address)');
    expect(preClaimRefusal(g, ip('10.9.0.30'), 'h3', false)).toBe('pre-claimed for the containers of node "h3", whose agent does not report: it cannot give it back');
    // e.g. a node the MacvlanNet no longer selects, which keeps what its containers use
    expect(preClaimRefusal(g, ip('10.9.0.50'), 'h4', true)).toBe('pre-claimed for the containers of node "h4"');
  });
});

describe('the holder\'s agent gives back what is asked of it only when no container holds it there', () => {
  const net = { subnet: '10.9.0.0/24' };
  const pool = ['10.9.0.11', '10.9.0.12', '10.9.0.13'];

  it('givenBack: the free ones asked, and the surplus above a limit', () => {
    expect(givenBack(pool, undefined, ['10.9.0.13', '10.9.0.99'])).toEqual(['10.9.0.13']);
    expect(givenBack(pool, 1, ['10.9.0.11'])).toEqual(['10.9.0.11', '10.9.0.12', '10.9.0.13']);
    expect(givenBack(pool, undefined)).toEqual([]);
  });

  it('returns an idle one at once, keeps one in use, and never hands a returned one out again', () => {
    const book = new AddressBook(new MemoryJournal(), () => undefined);
    book.setPool('mv', pool, net);
    book.assign('mv', '10.9.0.12');
    book.setPool('mv', pool, net, undefined, undefined, ['10.9.0.12', '10.9.0.13']);
    expect(book.report('mv').returned).toEqual(['10.9.0.13']);
    expect(book.free('mv')).toEqual(['10.9.0.11']);
    // the ask read again (the macvlan pass after the informer) changes nothing
    book.setPool('mv', pool, net, undefined, undefined, ['10.9.0.12', '10.9.0.13']);
    expect(book.report('mv').returned).toEqual(['10.9.0.13']);
    // released by the controller: gone from the pool and from returned
    book.setPool('mv', ['10.9.0.11', '10.9.0.12'], net);
    expect(book.report('mv')).toMatchObject({ returned: [], assigned: [{ ip: '10.9.0.12' }] });
  });

  it('reads giveBack from its part, dropping what is no address', () => {
    const m: MacvlanNet = {
      apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'mv', generation: 1 },
      spec: { subnet: '10.9.0.0/24', mode: 'bridge', promiscuous: true, hostShim: true, blockPrefix: 28, dockerIPAM: 'xnet', parent: 'eth0' },
      status: { nodes: [{ name: 'h2', addresses: pool, giveBack: ['10.9.0.13', 'nope', 7] as unknown as string[] }] },
    };
    expect(macvlanNodeStatus(m, 'h2')?.giveBack).toEqual(['10.9.0.13']);
  });
});

describe('the asker\'s plugin reads the other nodes in the MacvlanNet status', () => {
  const status = {
    external: ['10.9.0.5'],
    nodes: [
      { name: 'h1', addresses: ['10.9.0.10'] },
      { name: 'h2', shimAddress: '10.9.0.2', addresses: ['10.9.0.20', '10.9.0.21'], outsideRange: ['10.9.0.200'], giveBack: ['10.9.0.21'] },
      'not a part',
    ],
  };
  it('refuses at once only what is held for good: another node\'s pre-claim is asked of the controller', () => {
    expect(otherHolderIn(status, 'h1', '10.9.0.5', false)).toBe('a host outside xnet (it answered an ARP probe)');
    expect(otherHolderIn(status, 'h1', '10.9.0.2', false)).toBe('the host shim of node h2');
    expect(otherHolderIn(status, 'h1', '10.9.0.200', false)).toBe('node h2 (in use by its containers, outside the range since an edit)');
    expect(otherHolderIn(status, 'h1', '10.9.0.20', false)).toBeUndefined();
    // the full answer (a kept container's home held elsewhere: ../../pkg/agent/reconcilers/kept-home.ts)
    expect(otherHolderIn(status, 'h1', '10.9.0.20', true)).toBe('node h2 (pre-claimed for its containers, in use or at hand)');
    expect(otherHolderIn(status, 'h2', '10.9.0.20', true)).toBeUndefined();
    expect(otherHolderIn({ nodes: 'junk' }, 'h1', '10.9.0.20', true)).toBeUndefined();
  });

  it('names the node asked to give it back, for the reason at the deadline', () => {
    expect(askedBackFrom(status, 'h1', '10.9.0.21')).toBe('h2');
    expect(askedBackFrom(status, 'h1', '10.9.0.20')).toBeUndefined();
    expect(askedBackFrom(status, 'h2', '10.9.0.21')).toBeUndefined();
    expect(notGivenBackWhy('h2', 20_000)).toBe('an idle pre-claim of node h2, asked back for this node: it was not given back within 20000 ms (is that node\'s agent older than status.nodes[].giveBack?)');
  });
});
