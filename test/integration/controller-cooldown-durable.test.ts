// The address cooldown outlives the controller that released the address (release-marks.ts): the
// leader marks each release in etcd under a lease, and a controller started after it (every one
// that saw the release stopped meanwhile) waits out the rest instead of handing the address out
// at once. Before the marks, the release time lived only in the releasing controller's memory:
// the new leader gave the freed address to the next NIC at once (shown red by not starting the
// marks in term.ts: "t6 waits for the freed address cooling down" timed out, t6 had it).
// etcd runs with TLS and auth, and the controllers as the controller's identity: the marks and
// their leases are the controller role's to write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { IpamKeys, padIp } from '../../pkg/ipam/keys.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import type { Controller } from '../../pkg/controller/controller.js';
import type { EtcdStore } from '../../pkg/store/index.js';
import { obj, eventually, startController, statusOf, storeFor, type Status } from './controller-helpers.js';

const PREFIX = '/xnet';
/** long enough for a controller to stop and another to start and plan within it, under load */
const COOLDOWN_MS = 15_000;
const allocated = (s: Status) => s.conditions?.find((c) => c.type === 'Allocated');

let etcd: TestEtcd;
let store: EtcdStore;
let asController: () => Etcd3;
const running: Controller[] = [];

beforeAll(async () => {
  etcd = await startEtcd({ auth: true });
  const auth = etcd.auth!;
  store = storeFor(auth.clientAs(auth.ids.admin), PREFIX);
  asController = () => auth.clientAs(auth.ids.controller);
});
afterAll(async () => {
  try { for (const c of running) await c.stop(); } finally { await etcd?.stop(); }
});

async function controller(id: string): Promise<Controller> {
  // a stop resigns at once; a lease of 5 s (not the helpers' 2) keeps a loaded machine's pause
  // from handing the lead over in the middle of a case, which would prove nothing about marks
  const c = await startController(asController(), PREFIX, { id, addressCooldownMs: COOLDOWN_MS, leaseTtlSeconds: 5 });
  running.push(c);
  return c;
}

const nic = (name: string) => obj('ContainerNic', name, { node: 'h1', container: name, ifName: 'eth1', network: { clusterNetwork: 'tiny' } });

describe('the address cooldown across controllers', () => {
  it('a controller started after a release waits out the rest of its cooldown, then hands the address out', async () => {
    const a = await controller('ca');
    await store.applyAll([obj('ClusterNetwork', 'tiny', { cidr: '10.97.0.0/24', hostPrefix: 28 }), obj('Node', 'h1', { address: '198.18.0.42' })]);
    // /28: the upper 8 addresses are Docker's; network and gateway leave 6 for ContainerNics
    const six = Array.from({ length: 6 }, (_, i) => nic(`t${i}`));
    await store.applyAll(six);
    await eventually(async () => {
      const list = await Promise.all(six.map((n) => store.get('ContainerNic', n.metadata.name)));
      return list.every((o) => statusOf(o).ip) || undefined;
    }, 'six NICs with addresses');
    const freed = statusOf(await store.get('ContainerNic', 't0')).ip as string;
    await store.delete('ContainerNic', 't0');
    const markKey = new IpamKeys(PREFIX).releaseMark('clusternetworks', 'tiny', parseIPv4(freed));
    expect(markKey).toContain(`/ipam/clusternetworks/tiny/released/${padIp(parseIPv4(freed))}`);
    const mark = await eventually(async () => (await etcd.client().get(markKey).exec()).kvs[0], `the release of ${freed} marked in etcd`);
    expect(JSON.parse(mark.value.toString())).toMatchObject({ role: 'nic' });
    expect(String(mark.lease), 'the mark lives under a lease: etcd deletes it after the cooldown').not.toBe('0');
    // a mark holds no address: no leak, no stray key for `xctl ipam check`
    const check = await ipamCheck(etcd.auth!.clientAs(etcd.auth!.ids.admin), PREFIX);
    expect(check.problems, check.text).toBe(0);
    await a.stop();

    await store.applyAll([nic('t6')]);
    const b = await controller('cb');
    const cooling = await eventually(async () => {
      const s = statusOf(await store.get('ContainerNic', 't6'));
      expect(s.ip, `t6 got ${String(s.ip)}, the address released moments ago`).toBeUndefined();
      return allocated(s)?.message?.includes('released less than 15 s ago') ? allocated(s) : undefined;
    }, 't6 waits for the freed address cooling down');
    expect(cooling!.reason).toBe('PoolExhausted');
    const s = await eventually(async () => { const st = statusOf(await store.get('ContainerNic', 't6')); return st.ip ? st : undefined; }, 't6 given the cooled address', COOLDOWN_MS + 10_000);
    expect(s.ip).toBe(freed);
    expect(b.termsLed).toBe(1);
  }, 90_000);

  // a leader that stopped before writing a mark (the 50 ms after its release): its standby saw
  // the release, and marks it when it leads (red with startReleaseMarks' loop over
  // model.releases.cooling() taken out: the mark never came back)
  it('a new leader marks a release it saw whose mark is missing', async () => {
    const b = running.at(-1)!;
    const c = await controller('cc');
    expect(b.isLeader && !c.isLeader, 'cb leads, cc stands by').toBe(true);
    const freed = statusOf(await store.get('ContainerNic', 't1')).ip as string;
    await store.delete('ContainerNic', 't1');
    const markKey = new IpamKeys(PREFIX).releaseMark('clusternetworks', 'tiny', parseIPv4(freed));
    await eventually(async () => (await etcd.client().get(markKey).exec()).kvs[0], `the release of ${freed} marked`);
    // as if cb had stopped before writing it
    await etcd.client().delete().key(markKey).exec();
    expect((await etcd.client().get(markKey).exec()).kvs, 'the mark deleted').toHaveLength(0);
    await b.stop();
    await eventually(async () => c.isLeader || undefined, 'cc leads');
    const mark = await eventually(async () => (await etcd.client().get(markKey).exec()).kvs[0], `the release of ${freed} marked again by cc`, 10_000);
    expect(JSON.parse(mark.value.toString())).toMatchObject({ role: 'nic' });
  }, 60_000);
});
