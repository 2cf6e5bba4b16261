// A compromised node writing hundreds of values that do not decode into its own status keys,
// with its own certificate: the leader logs each key once when it turns unreadable, not once
// per bad value (1,000 bad values in 2 s were 1,000 warning lines), and within a budget for
// all keys (pkg/runtime/refusal-log.ts); it keeps leading and allocating meanwhile. Likewise a
// MacvlanNet report whose IPAM part does not decode (pkg/controller/ipam-report.ts).
// Real etcd with TLS and auth: the values as node-host-1, the controller as xnet-controller.
import { describe, expect, it } from 'vitest';
import { REFUSAL_LOG_BURST } from '../../pkg/runtime/refusal-log.js';
import { Keys } from '../../pkg/store/keys.js';
import { eventually, obj, statusOf } from './controller-helpers.js';
import { useHostileNodeFixture } from './trust-fixture.js';

const fx = useHostileNodeFixture();
const keys = new Keys();

const skipped = (key: string) => fx.lines.filter((l) => l.includes('skipped a key that does not decode') && l.includes(`"key":"${key}"`));

describe('a node writing values that do not decode, hundreds a second', () => {
  it('is logged once per key while the key stays unreadable, again when it turns unreadable anew, and the leader still allocates', async () => {
    await fx.admin.applyAll([obj('ClusterNetwork', 'default', { cidr: '10.96.0.0/16', hostPrefix: 24 }), obj('Node', 'host-1', {})]);
    const hs = keys.status('HostSubnet', 'default-host-1', { node: 'host-1' });
    const nodeReport = keys.status('Node', 'host-1', { node: 'host-1' });
    const N = 500;
    for (let i = 0; i < N; i++) await fx.host1.put(hs).value(`not json ${i}`);
    // a second key, written after all of them: once it is logged, the first key's values were all seen
    await fx.host1.put(nodeReport).value('[]');
    await eventually(async () => skipped(nodeReport).length === 1, 'the Node report named in the log');
    expect(skipped(hs), `${skipped(hs).length} lines for ${N} bad values of one key`).toHaveLength(1);
    expect(fx.lines.filter((l) => l.includes('skipped a key')).length).toBeLessThanOrEqual(REFUSAL_LOG_BURST);
    // readable, then unreadable again: a new episode, named again
    await fx.host1.put(hs).value(JSON.stringify({ conditions: [] }));
    await fx.host1.put(hs).value('{"conditions":"Ready"}');
    await eventually(async () => skipped(hs).length === 2, 'the key named again once it turned unreadable anew');
    // meanwhile the leader did its work: host-1's HostSubnet has its subnet
    await eventually(async () => statusOf(await fx.admin.get('HostSubnet', 'default-host-1')).subnet, 'default-host-1 allocated');
    expect(fx.c.isLeader).toBe(true);
  }, 120_000);

  it('a MacvlanNet IPAM report that does not decode, rewritten: one line until it decodes again', async () => {
    await fx.admin.applyAll([obj('MacvlanNet', 'lan', { subnet: '10.80.0.0/24', dockerIPAM: 'xnet', hostShim: false })]);
    await eventually(async () => ((statusOf(await fx.admin.get('MacvlanNet', 'lan')).nodes as Array<{ addresses?: string[] }> | undefined)?.[0]?.addresses?.length ?? 0) > 0, 'host-1 pre-claims addresses');
    const key = keys.status('MacvlanNet', 'lan', { node: 'host-1' });
    const report = (i: number, want: number) => JSON.stringify({ ready: true, message: `report ${i}`, ipam: { assigned: [], returned: [], external: [], requested: [], want } });
    const ignored = () => fx.lines.filter((l) => l.includes('node IPAM report does not decode') && l.includes('"node":"host-1"'));
    // want beyond the schema's 4096: the whole IPAM report is ignored
    for (let i = 0; i < 60; i++) await fx.host1.put(key).value(report(i, 5000 + i));
    await eventually(async () => ((statusOf(await fx.admin.get('MacvlanNet', 'lan')).nodes as Array<{ message?: string }>)[0]?.message === 'report 59'), 'the last report looked at');
    expect(ignored()).toHaveLength(1);
    await fx.host1.put(key).value(report(60, 0));
    await eventually(async () => ((statusOf(await fx.admin.get('MacvlanNet', 'lan')).nodes as Array<{ message?: string }>)[0]?.message === 'report 60'), 'a good report looked at');
    await fx.host1.put(key).value(report(61, 9999));
    await eventually(async () => ignored().length === 2, 'named again once it turned unreadable anew');
  }, 120_000);
});
