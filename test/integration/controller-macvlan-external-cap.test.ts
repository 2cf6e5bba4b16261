// dockerIPAM xnet: status.external lists at most MAX_STATUS_EXTERNAL marks, the lowest, and
// status.externalCount says how many there are in all. Listed without a cap, the ~110,000 marks
// a lying node can make on a large pool (72 at a time, again and again) made the MacvlanNet's
// status larger than etcd takes in a request: it was never written again, not even by the
// transaction freeing that Node's marks once it was deleted. Real etcd, the real controller;
// the marks are put in etcd as the controller makes them (role external, the node, markedAt)
// while it is stopped, as many rounds of a lying node's reports would have left them, and
// `xctl ipam check` finds the marks the status does not list no problem.
import { describe, expect, it } from 'vitest';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';
import { MAX_LISTED_MARKS, MAX_STATUS_EXTERNAL } from '../../pkg/controller/macvlan-mark-time.js';
import { eventually, statusOf } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';

const fx = useMacvlanParts();
const MARKS = MAX_STATUS_EXTERNAL + 200;

type ExternalStatus = { external?: string[]; externalCount?: number };

describe('a MacvlanNet with more external marks than its status lists', () => {
  it('lists the lowest in status.external, counts them all in status.externalCount, and ipam check stays clean', async () => {
    await fx.segment('many', { subnet: '10.79.0.0/20', dockerIPAM: 'xnet', hostShim: false }, 'many', ['mk-1']);
    await fx.report('many', 'mk-1', {});
    await eventually(async () => !!(await fx.partOf('many', 'mk-1'))?.addresses?.length, 'mk-1 holds addresses at hand');
    const uid = (await fx.store.get('MacvlanNet', 'many'))!.metadata.uid!;
    await fx.stopController();
    const ips = Array.from({ length: MARKS }, (_, i) => formatIPv4(parseIPv4('10.79.4.0') + i));
    const keys = new IpamKeys(fx.prefix);
    const client = fx.etcd.client();
    for (let i = 0; i < ips.length; i += 100) {
      await Promise.all(ips.slice(i, i + 100).map((ip, j) => client.put(keys.claim('macvlannets', 'many', 'addresses', parseIPv4(ip)))
        .value(JSON.stringify({ owner: { kind: 'MacvlanNet', name: 'many', uid }, role: 'external', ip, node: 'mk-1', markedAt: 1_796_000_000 + i + j }))));
    }
    await fx.startController();
    const status = await eventually(async () => {
      const s = statusOf(await fx.store.get('MacvlanNet', 'many')) as ExternalStatus;
      return (s.external?.length ?? 0) >= MAX_STATUS_EXTERNAL && s;
    }, 'the marks in status.external');
    expect(status.external).toEqual(ips.slice(0, MAX_STATUS_EXTERNAL));
    expect(status.externalCount).toBe(MARKS);
    expect((await fx.partOf('many', 'mk-1'))?.external).toEqual(ips.slice(0, MAX_LISTED_MARKS));
    await fx.expectClean();
  }, 90_000);
});
