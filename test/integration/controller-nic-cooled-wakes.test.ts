// A ContainerNic waiting PoolExhausted is woken when an address of its pool is freed, but the
// freed address cools down first (--address-cooldown: neighbours' ARP caches may still map it to
// the old MAC), so the woken NIC finds only a cooling address and waits again ("the first is
// reused in N s"). Nothing looked at it when the cooldown ended: it got the address at its next
// work-queue retry, whose backoff doubles from 50 ms to 30 s, long after the address was free.
// The controller runs with that retry out of reach (WAKE_TEST_BACKOFF): only a look when the
// cooldown ends can give the NIC its address within the test (shown red by dropping o.coolingMs
// from the look-again of nic-work.ts nicDone).
import { describe, expect, it } from 'vitest';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture, WAKE_TEST_BACKOFF, expectOneTerm, type Status } from './controller-helpers.js';

const COOLDOWN_MS = 3_000;
const prefix = uniquePrefix();
const fx = useControllerFixture(prefix, { addressCooldownMs: COOLDOWN_MS, waitBackoff: WAKE_TEST_BACKOFF });
const allocated = (s: Status) => s.conditions?.find((c) => c.type === 'Allocated');
/** The cooldown and then moments for the NIC's round. */
const COOLED_WAIT_MS = COOLDOWN_MS + 5_000;

describe('a ContainerNic waiting PoolExhausted', () => {
  it('gets a freed address once its cooldown ends, not at its next retry', async () => {
    await fx.store.applyAll([
      obj('ClusterNetwork', 'tiny', { cidr: '10.98.0.0/24', hostPrefix: 28 }),
      obj('Node', 'h1', { address: '198.18.0.41' }),
    ]);
    await eventually(async () => statusOf(await fx.store.get('HostSubnet', 'tiny-h1')).subnet || undefined, 'tiny-h1 allocated');
    // /28: the upper 8 addresses are Docker's; network and gateway leave 6 for ContainerNics
    const nics = Array.from({ length: 7 }, (_, i) => obj('ContainerNic', `t${i}`, { node: 'h1', container: `t${i}`, ifName: 'eth1', network: { clusterNetwork: 'tiny' } }));
    await fx.store.applyAll(nics);
    const waiting = await eventually(async () => {
      const list = await Promise.all(nics.map((n) => fx.store.get('ContainerNic', n.metadata.name)));
      const loser = list.filter((o) => allocated(statusOf(o))?.reason === 'PoolExhausted');
      return list.filter((o) => statusOf(o).ip).length === 6 && loser.length === 1 ? loser[0]!.metadata.name : undefined;
    }, 'six addresses and one NIC waiting PoolExhausted');
    const winner = nics.map((n) => n.metadata.name).find((n) => n !== waiting)!;
    const freed = statusOf(await fx.store.get('ContainerNic', winner)).ip;
    await fx.store.delete('ContainerNic', winner);
    // woken by the release, it finds the address cooling and says so: the disturbance seen
    const cooling = await eventually(async () => { const a = allocated(statusOf(await fx.store.get('ContainerNic', waiting))); return a?.message?.includes('released less than 3 s ago') && a; }, 'the waiting NIC told the freed address cools down');
    expect(cooling.status).toBe('False');
    const s = await eventually(async () => { const st = statusOf(await fx.store.get('ContainerNic', waiting)); return st.ip ? st : undefined; }, 'the waiting NIC given the cooled address', COOLED_WAIT_MS);
    expect(s.ip).toBe(freed);
    expect(allocated(s)?.status).toBe('True');
    expectOneTerm(fx.c);
  }, 60_000);
});
