// `xctl ipam check` of a MacvlanNet whose status.external lists only the lowest of its marks
// (controller/macvlan-mark-time.ts MAX_STATUS_EXTERNAL) and counts them all in
// status.externalCount: a mark above the last listed is no leak, a mark below it that is not
// listed is, and a count that is not the number of marks claimed is a problem.
import { describe, expect, it } from 'vitest';
import { auditIpam } from '../../pkg/ipam/check.js';

const P = '/xnet';
const owner = { kind: 'MacvlanNet', name: 'mv', uid: 'mv1' };
const mv = { key: `${P}/registry/objects/macvlannets/mv`, value: JSON.stringify({ apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'mv', uid: 'mv1' }, spec: { subnet: '192.168.60.0/24', parent: 'eth0', dockerIPAM: 'xnet' } }) };
const status = (s: unknown) => ({ key: `${P}/registry/status/controller/macvlannets/mv`, value: JSON.stringify(s) });
const mark = (last: number) => ({ key: `${P}/ipam/macvlannets/mv/addresses/192.168.060.${String(last).padStart(3, '0')}`, value: JSON.stringify({ owner, role: 'external', ip: `192.168.60.${last}`, node: 'n1', markedAt: 1_796_000_000 }) });
const marks = [mark(10), mark(11), mark(20), mark(30)];
const problems = (kvs: Array<{ key: string; value: string }>) => { const a = auditIpam(kvs, P); return [...a.leaks, ...a.unclaimed]; };

describe('ipam check of a MacvlanNet listing some of its external marks', () => {
  it('takes the marks above the last listed as counted, and finds nothing wrong', () => {
    expect(problems([mv, status({ external: ['192.168.60.10', '192.168.60.11'], externalCount: 4 }), ...marks])).toEqual([]);
  });

  it('names a mark below the last listed that is not listed', () => {
    expect(problems([mv, status({ external: ['192.168.60.10', '192.168.60.20'], externalCount: 4 }), ...marks]))
      .toEqual(['macvlannet/mv 192.168.60.11 (MacvlanNet "mv" node n1): the owner\'s status does not announce it']);
  });

  it('names a count that is not the number of marks claimed', () => {
    expect(problems([mv, status({ external: ['192.168.60.10', '192.168.60.11'], externalCount: 5 }), ...marks]))
      .toEqual(['MacvlanNet "mv" counts 5 external marks (status.externalCount) but 4 are claimed']);
    expect(problems([mv, status({ external: ['192.168.60.10', '192.168.60.11'], externalCount: 3 }), ...marks]))
      .toEqual(['MacvlanNet "mv" counts 3 external marks (status.externalCount) but 4 are claimed']);
  });

  it('without a count, names every mark not listed', () => {
    expect(problems([mv, status({ external: ['192.168.60.10', '192.168.60.11', '192.168.60.20'] }), ...marks]))
      .toEqual(['macvlannet/mv 192.168.60.30 (MacvlanNet "mv" node n1): the owner\'s status does not announce it']);
  });
});
