// dockerIPAM blocks: what the controller writes of the addresses held twice on a segment
// (pkg/controller/macvlan-conflicts.ts): the status every node reads, its AddressesUnique
// condition and the Warning. The same `docker run --ip` on every host gives one address a
// holder per node; a thousand of them listed in full, for the 64 addresses a status lists,
// made a status of 5 MB that etcd (1.5 MiB a request) refused, so the MacvlanNet's status,
// every node's block in it, was never written again.
import { describe, expect, it } from 'vitest';
import { conflictCondition, conflictFields, findConflicts, newConflicts, tellConflicts } from '../../pkg/controller/macvlan-conflicts.js';
import { addressConflicts, type SegmentHolder } from '../../pkg/ipam/address-conflicts.js';
import type { MacvlanNet, MacvlanNodeStatus } from '../../pkg/api/index.js';
import type { Ctx } from '../../pkg/controller/context.js';
import type { EventRecorder } from '../../pkg/events/recorder.js';
import { ETCD_DEFAULT_LIMITS } from '../../pkg/etcd/limits.js';
import { cidrInterval } from '../../pkg/ipam/ranges.js';
import { parseCidr } from '../../pkg/ip/ipv4.js';

const nodes = Array.from({ length: 1000 }, (_, i) => `host-${String(i).padStart(4, '0')}`);
// 64 addresses of host-0000's block and 200 outside every block, each given to a container on every node
const block: SegmentHolder = { role: 'docker-block', node: 'host-0000', cidr: '10.90.0.0/25', range: cidrInterval(parseCidr('10.90.0.0/25')) };
const reported = nodes.slice(1).flatMap((node) => [
  ...Array.from({ length: 64 }, (_, j) => ({ node, ip: `10.90.0.${j}`, name: `web-${j}` })),
  ...Array.from({ length: 192 }, (_, j) => ({ node, ip: `10.90.1.${j}`, name: `db-${j}` })),
]);
const found = { conflicts: addressConflicts(reported, [block]), unreadable: [] };

describe('the status of a blocks segment where every node holds the same addresses', () => {
  it('lists at most 4 holders of each address, keeping the block and counting them all, within etcd\'s request limit', () => {
    expect(found.conflicts).toHaveLength(256);
    const fields = conflictFields(found) as { addressConflicts: Array<{ ip: string; holders: Array<{ role: string; what: string }>; holderCount?: number }>; addressConflictCount: number };
    expect(fields.addressConflictCount).toBe(256);
    expect(fields.addressConflicts).toHaveLength(64);
    const [first] = fields.addressConflicts;
    expect(first.ip).toBe('10.90.0.0');
    expect(first.holderCount).toBe(1000);
    expect(first.holders.map((h) => h.what)).toEqual(['a container on node host-0001', 'a container on node host-0002', 'a container on node host-0003', 'node host-0000\'s Docker block 10.90.0.0/25 (its Docker hands it out)']);
    // the status around it holds a part per node (~300 bytes each) too
    expect(JSON.stringify(fields).length).toBeLessThan(ETCD_DEFAULT_LIMITS.maxRequestBytes / 8);
  });

  it('names the first holders in the condition and the Warning, and counts the rest', () => {
    const c = conflictCondition(found);
    expect(c.message).toContain('10.90.0.0 is held 1000 times: a container on node host-0001, a container on node host-0002, a container on node host-0003, node host-0000\'s Docker block 10.90.0.0/25 (its Docker hands it out) and 996 more');
    expect(c.message.length).toBeLessThan(2000);
    const told: string[] = [];
    const events = { record: async (_o: unknown, _t: unknown, _r: unknown, message: string) => { told.push(message); } } as unknown as EventRecorder;
    tellConflicts(events, { kind: 'MacvlanNet', name: 'lan' }, found.conflicts.slice(0, 1));
    expect(told).toEqual([expect.stringMatching(/^10\.90\.0\.0 is held 1000 times: container web-0 on node host-0001, container web-0 on node host-0002, container web-0 on node host-0003, node host-0000's Docker block 10\.90\.0\.0\/25 \(its Docker hands it out\) and 996 more: Docker's IPAM/)]);
    // a round that finds them again tells none of them again
    expect(newConflicts(conflictFields(found), found)).toEqual([]);
    // nor once one more node's container holds an address whose listed holders stay the same
    const more = { conflicts: addressConflicts([...reported, { node: 'host-x', ip: '10.90.0.0', name: 'web-0' }], [block]), unreadable: [] };
    expect((conflictFields(more) as { addressConflicts: Array<{ holderCount?: number }> }).addressConflicts[0].holderCount).toBe(1001);
    expect(newConflicts(conflictFields(found), more)).toEqual([]);
    // an address held 3 times, then twice again: not told again; a holder newly listed is
    const three = { conflicts: addressConflicts(['a', 'b', 'c'].map((node) => ({ node, ip: '10.90.1.1' })), []), unreadable: [] };
    const two = { conflicts: addressConflicts(['a', 'b'].map((node) => ({ node, ip: '10.90.1.1' })), []), unreadable: [] };
    expect(newConflicts(conflictFields(three), two)).toEqual([]);
    expect(newConflicts(conflictFields(two), three)).toEqual(three.conflicts);
  });
});

describe('a round of a blocks MacvlanNet whose nodes\' reports did not change', () => {
  it('decodes none of them again, and finds the same conflicts', () => {
    // the reports as the controller's cache holds them: one parsed object per key until it changes
    let reads = 0;
    const reports = new Map(nodes.slice(0, 100).map((node, i) => [node, new Proxy({ ready: true, outsideBlock: [{ ip: `10.90.0.${1 + (i % 64)}`, name: 'web' }, { ip: `10.90.2.${i}` }] }, {
      get: (t, k) => { if (k === 'outsideBlock') reads++; return Reflect.get(t, k); },
    })]));
    const ctx = {
      model: { nodeStatus: (node: string) => reports.get(node), claimsIn: () => new Map(), routedAddressesIn: () => [], nodeRoutedBy: () => undefined },
      log: { warn: () => undefined },
    } as unknown as Ctx;
    const m = { metadata: { name: 'lan', uid: 'u1' }, spec: { subnet: '10.90.0.0/16', dockerIPAM: 'blocks' } } as unknown as MacvlanNet;
    const parts: MacvlanNodeStatus[] = nodes.slice(0, 100).map((name, i) => ({ name, ready: true, dockerRange: i ? `10.90.${128 + i}.0/28` : '10.90.0.0/25' }));
    const first = findConflicts(ctx, m, parts)!;
    expect(first.conflicts).toHaveLength(64);
    const once = reads;
    expect(once).toBeGreaterThan(0);
    expect(findConflicts(ctx, m, parts)).toEqual(first);
    expect(reads).toBe(once);
    // a node's block moved: its report is read again against its new block, which holds what
    // nodes 0 and 2-15 report (node 1's 10.90.2.1 is its own now)
    parts[1] = { ...parts[1], dockerRange: '10.90.2.0/28' };
    expect(findConflicts(ctx, m, parts)!.conflicts).toHaveLength(64 + 15);
    expect(reads).toBeGreaterThan(once);
  });
});
