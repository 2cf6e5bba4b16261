// A ClusterNetwork with every block taken: the HostSubnet the controller makes for a node that
// joins then waits with Allocated=False PoolExhausted. When another node's block is freed, the
// waiting one must get that block at once, as a flannel or Calico node gets a freed subnet. Only
// pinned HostSubnets (refused for a block another held) were looked at again when a block claim
// was freed; this one was left to the retry of its work-queue key, whose backoff doubles from
// 50 ms to 30 s (the ClusterNetwork's recount queues every Node, but a Node's reconcile plans
// only a HostSubnet it lacks). The controller runs with that retry out of reach
// (WAKE_TEST_BACKOFF): only the freed block's claim can get the waiting one looked at again (shown
// red by removing the line of events.ts that queues blockWaiters' HostSubnets for a freed block claim).
// Real etcd, in-process controller; a node's agent is its report key, written by the test.
import { describe, expect, it } from 'vitest';
import type { HostSubnet } from '../../pkg/api/index.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { parseCidr } from '../../pkg/ip/ipv4.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture, WAKE_TEST_BACKOFF, expectOneTerm, type Status } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix, { waitBackoff: WAKE_TEST_BACKOFF });
const allocated = (s: Status) => s.conditions?.find((c) => c.type === 'Allocated');
/** Moments for the round that hands the freed block over. */
const FREED_WAIT_MS = 8_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A ClusterNetwork with room for two /24 blocks selecting `label`, Nodes `a` and `b` given them, `c` waiting; returns a's HostSubnet. */
async function fullNetwork(cn: string, cidr: string, label: string, [a, b, c]: string[]): Promise<HostSubnet> {
  const node = (n: string, i: number) => obj('Node', n, { address: `198.18.0.${30 + i}` }, { [label]: 'yes' });
  await fx.store.applyAll([obj('ClusterNetwork', cn, { cidr, hostPrefix: 24, nodeSelector: { matchLabels: { [label]: 'yes' } } }), node(a, 1), node(b, 2)]);
  for (const n of [a, b]) await eventually(async () => statusOf(await fx.store.get('HostSubnet', `${cn}-${n}`)).subnet || undefined, `${cn}-${n} allocated`);
  await fx.store.applyAll([node(c, 3)]);
  const waiting = await eventually(async () => { const x = allocated(statusOf(await fx.store.get('HostSubnet', `${cn}-${c}`))); return x?.reason === 'PoolExhausted' ? x : undefined; }, `${cn}-${c} waiting`);
  expect(waiting.status).toBe('False');
  expect(waiting.message).toContain('no free /24 block left');
  return (await fx.store.get('HostSubnet', `${cn}-${a}`)) as HostSubnet;
}

/** The HostSubnet given `subnet` within FREED_WAIT_MS. */
async function givenWithinMoments(name: string, subnet: unknown): Promise<void> {
  const s = await eventually(async () => { const st = statusOf(await fx.store.get('HostSubnet', name)); return st.subnet ? st : undefined; }, `${name} given the freed block`, FREED_WAIT_MS);
  expect(s.subnet).toBe(subnet);
  expect(allocated(s)?.status).toBe('True');
  expectOneTerm(fx.c);
}

describe('a HostSubnet waiting PoolExhausted', () => {
  it('gets a block freed by a deleted Node at once, not at its next retry', async () => {
    const first = await fullNetwork('two', '10.87.0.0/23', 'two', ['n1', 'n2', 'n3']);
    await fx.store.delete('Node', 'n1');
    await givenWithinMoments('two-n3', first.status?.subnet);
    expect(await fx.store.get('HostSubnet', 'two-n1')).toBeUndefined();
  }, 60_000);

  it('gets a block kept for a node\'s Docker network once the node lets it go, at once', async () => {
    const first = await fullNetwork('kept', '10.88.0.0/23', 'kept', ['k1', 'k2', 'k3']);
    const subnet = String(first.status?.subnet);
    const claim = new IpamKeys(prefix).claim('clusternetworks', 'kept', 'blocks', parseCidr(subnet).base);
    // k1's agent reports its network, which it keeps until the containers on it are gone (hostsubnet-leaving.ts)
    const ready = { type: 'Ready', status: 'True' as const, reason: 'Converged', message: '', lastTransitionTime: new Date().toISOString(), observedGeneration: 1 };
    await fx.store.writeStatus('HostSubnet', 'kept-k1', { node: 'k1' }, { keptUntilNetworkGone: true, objectUid: first.metadata.uid, observedGeneration: 1, conditions: [ready] });
    await fx.store.applyAll([obj('Node', 'k1', { address: '198.18.0.31' }, { kept: 'no' })]);
    await eventually(async () => !(await fx.store.get('HostSubnet', 'kept-k1')) || undefined, 'kept-k1 deleted');
    await sleep(1_500);
    expect(await fx.etcd.client().get(claim).string(), 'the block kept while k1 reports its network').not.toBeNull();
    expect(allocated(statusOf(await fx.store.get('HostSubnet', 'kept-k3')))?.reason).toBe('PoolExhausted');
    await fx.store.deleteStatus('HostSubnet', 'kept-k1', { node: 'k1' });
    await givenWithinMoments('kept-k3', subnet);
  }, 60_000);

  it('pinned to the lower /25 of a block whose upper /25 another holds (one claim key for both): gets it once that one is deleted, at once', async () => {
    await fx.store.applyAll([obj('Node', 'p1', { address: '198.18.0.41' }), obj('ClusterNetwork', 'halves', { cidr: '10.89.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { pool: 'none' } } }),
      obj('HostSubnet', 'upper', { node: 'p1', clusterNetwork: 'halves', subnet: '10.89.1.128/25' })]);
    await eventually(async () => allocated(statusOf(await fx.store.get('HostSubnet', 'upper')))?.status === 'True' || undefined, 'upper allocated');
    await fx.store.applyAll([obj('HostSubnet', 'lower', { node: 'p1', clusterNetwork: 'halves', subnet: '10.89.1.0/25' })]);
    await eventually(async () => allocated(statusOf(await fx.store.get('HostSubnet', 'lower')))?.reason === 'SubnetConflict' || undefined, 'lower refused');
    await fx.store.delete('HostSubnet', 'upper');
    await givenWithinMoments('lower', '10.89.1.0/25');
  }, 60_000);
});
