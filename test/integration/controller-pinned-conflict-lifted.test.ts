// A HostSubnet pinned to a subnet another holds is refused (Allocated=False SubnetConflict, no
// status.subnet), and its node's agent makes nothing for it, nor do peers route it
// (agent/desired.ts refusedPin). Once the other goes and its block claim with it, the refused
// one must be allocated at once: its bridge and routes wait for that. The controller retried it
// only on its work queue's backoff, which doubles to 30 s: the node went without its bridge and
// routes that long after the conflict was gone. The controller runs with that retry out of reach
// (WAKE_TEST_BACKOFF): only the freed claim can get the refused one looked at again (shown red
// by removing the line of events.ts that queues blockWaiters' HostSubnets for a freed block claim).
import { describe, expect, it } from 'vitest';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture, WAKE_TEST_BACKOFF, expectOneTerm, type Status } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix, { waitBackoff: WAKE_TEST_BACKOFF });
const ipam = new IpamKeys(prefix);
const allocated = (s: Status) => s.conditions?.find((c) => c.type === 'Allocated');
/** Moments for the round that allocates it. */
const LIFTED_WAIT_MS = 8_000;

describe('a pinned HostSubnet refused for another\'s subnet', () => {
  it('is allocated as soon as the other HostSubnet and its claim are gone, not at its next retry', async () => {
    await fx.store.applyAll([
      obj('ClusterNetwork', 'pin', { cidr: '10.86.0.0/16', hostPrefix: 24, nodeSelector: { matchLabels: { pool: 'none' } } }),
      obj('Node', 'n1', { address: '198.18.0.21' }), obj('Node', 'n2', { address: '198.18.0.22' }),
      obj('HostSubnet', 'first', { node: 'n1', clusterNetwork: 'pin', subnet: '10.86.5.0/24' }),
    ]);
    await eventually(async () => statusOf(await fx.store.get('HostSubnet', 'first')).subnet === '10.86.5.0/24' || undefined, 'first allocated');
    await fx.store.applyAll([obj('HostSubnet', 'second', { node: 'n2', clusterNetwork: 'pin', subnet: '10.86.5.128/25' })]);
    const refused = await eventually(async () => { const a = allocated(statusOf(await fx.store.get('HostSubnet', 'second'))); return a?.reason === 'SubnetConflict' ? a : undefined; }, 'second refused');
    expect(refused.message).toContain('HostSubnet "first"');
    expect(statusOf(await fx.store.get('HostSubnet', 'second')).subnet).toBeUndefined();
    await fx.store.delete('HostSubnet', 'first');
    const key = ipam.claim('clusternetworks', 'pin', 'blocks', parseIPv4('10.86.5.0'));
    // the block's key is the one second is kept at too: gone, or second's already
    const claimOf = async () => { const v = await fx.etcd.client().get(key).string(); return v === null ? undefined : (JSON.parse(v) as { owner: { name: string } }).owner.name; };
    await eventually(async () => (await fx.store.get('HostSubnet', 'first')) === undefined && (await claimOf()) !== 'first' || undefined, 'first and its claim gone');
    const s = await eventually(async () => { const st = statusOf(await fx.store.get('HostSubnet', 'second')); return st.subnet ? st : undefined; }, 'second allocated once first is gone', LIFTED_WAIT_MS);
    expect(s.subnet).toBe('10.86.5.128/25');
    expect(allocated(s)?.status).toBe('True');
    expectOneTerm(fx.c);
  }, 60_000);
});
