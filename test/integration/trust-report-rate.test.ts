// A compromised node rewriting its reports hundreds of times a second, with its own
// certificate: the leader writes what follows from them into state every node reads (the
// MacvlanNet's status, every agent's; a HostSubnet's nodeAddress, every peer's next hop) at
// most at REPORTS_PER_SECOND beyond a burst (pkg/controller/report-budget.ts), logs which node
// it holds back, still takes the node's last report, and leaves the other node's part alone.
// Before, 600 MacvlanNet reports made 440-460 status writes, and 400 address flips 170-210
// nodeAddress writes (each a route replaced on every peer), in about 2 s.
// Real etcd with TLS and auth: the reports as node-host-1, the controller as xnet-controller.
import { describe, expect, it } from 'vitest';
import { REPORT_BURST, REPORTS_PER_SECOND } from '../../pkg/controller/report-budget.js';
import { Keys } from '../../pkg/store/keys.js';
import { eventually, obj, statusOf } from './controller-helpers.js';
import { lanParts, twoNodeLan, useHostileNodeFixture } from './trust-fixture.js';

const fx = useHostileNodeFixture();
const keys = new Keys();
const statusKey = keys.status('MacvlanNet', 'lan', { controller: true });

const parts = () => lanParts(fx);
const version = async (): Promise<number> => Number((await fx.etcd.client().get(statusKey).exec()).kvs[0]?.version ?? 0);

/** host-1's report as its agent writes it, but each one different. */
const report = (i: number) => JSON.stringify({
  ready: i % 2 === 0, message: `report ${i}`,
  ipam: { assigned: i % 3 === 0 ? [] : [{ ip: '10.80.0.250', container: `c${i}` }], returned: [], external: [], requested: [], want: 0 },
});

describe('a node rewriting its reports hundreds of times a second', () => {
  it('of a MacvlanNet: the status every node reads is written at a bounded rate, is named in the log, and its last report still counts', async () => {
    const settled = await twoNodeLan(fx, false);
    const host2 = settled.find((n) => n.name === 'host-2')!;
    // the node's write is allowed (its own key): the test is about what follows from it
    const reportKey = keys.status('MacvlanNet', 'lan', { node: 'host-1' });
    const before = await version();
    const started = Date.now();
    const N = 600;
    for (let i = 0; i < N; i++) await fx.host1.put(reportKey).value(report(i));
    const last = N - 1;
    await eventually(async () => (await parts()).find((n) => n.name === 'host-1')?.message === `report ${last}`, 'host-1\'s last report in the status');
    const seconds = (Date.now() - started) / 1000;
    const writes = (await version()) - before;
    // the bound is the claim: a burst, then the rate, over the time the reports and the last look took (+1 look pending)
    expect(writes, `${writes} status writes for ${N} reports in ${seconds} s`).toBeLessThanOrEqual(REPORT_BURST + Math.ceil(REPORTS_PER_SECOND * seconds) + 1);
    expect(fx.lines.filter((l) => l.includes('rewrites its reports faster than the leader takes them') && l.includes('"node":"host-1"'))).toHaveLength(1);
    // the other node's part is as it was
    expect((await parts()).find((n) => n.name === 'host-2')).toEqual(host2);
  }, 120_000);

  it('flipping its reported address: its peers\' next hop (HostSubnet nodeAddress) changes at a bounded rate, and its last address counts', async () => {
    const host3 = fx.etcd.auth!.clientAs(await fx.etcd.auth!.addNode('host-3'));
    const nodeReport = keys.status('Node', 'host-3', { node: 'host-3' });
    const say = (address: string) => host3.put(nodeReport).value(JSON.stringify({ address, interface: 'eth0', conditions: [{ type: 'Ready', status: 'True', reason: 'AgentReady' }] }));
    await fx.admin.applyAll([obj('ClusterNetwork', 'default', { cidr: '10.96.0.0/16', hostPrefix: 24 }), obj('Node', 'host-3', {})]);
    await say('198.18.0.31');
    const hsKey = keys.status('HostSubnet', 'default-host-3', { controller: true });
    const nodeAddress = async () => statusOf(await fx.admin.get('HostSubnet', 'default-host-3')).nodeAddress;
    await eventually(async () => (await nodeAddress()) === '198.18.0.31', 'default-host-3 routed via 198.18.0.31');
    const hsVersion = async () => Number((await fx.etcd.client().get(hsKey).exec()).kvs[0]?.version ?? 0);
    const before = await hsVersion();
    const started = Date.now();
    const N = 400;
    for (let i = 1; i <= N; i++) await say(i % 2 ? '198.18.0.41' : '198.18.0.31');
    await say('198.18.0.51');
    await eventually(async () => (await nodeAddress()) === '198.18.0.51', 'default-host-3 routed via its last address');
    const seconds = (Date.now() - started) / 1000;
    const writes = (await hsVersion()) - before;
    expect(writes, `${writes} nodeAddress writes for ${N + 1} reports in ${seconds} s`).toBeLessThanOrEqual(REPORT_BURST + Math.ceil(REPORTS_PER_SECOND * seconds) + 1);
    expect(fx.lines.filter((l) => l.includes('rewrites its reports faster than the leader takes them') && l.includes('"node":"host-3"'))).toHaveLength(1);
  }, 120_000);
});
