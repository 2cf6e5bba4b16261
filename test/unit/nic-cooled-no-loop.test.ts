// A ContainerNic that finds only a cooling address is looked at again when the first has cooled,
// at once when its wait came out 0 (nic-work.ts nicDone: `again !== undefined`). That 0 must not
// come round again, or the NIC would be reconciled in a loop with no backoff: once a wait has
// reached 0 the address counts as free for the NIC's next pick, and a cooled address the NIC may
// not take (another NIC pins it: held back) is no cooling wait at all, so the NIC waits for a
// wake as any NIC of a full pool does. The plans run on the controller's real cache and admission,
// seeded in memory (etcd takes every transaction).
import { describe, expect, it } from 'vitest';
import { TxnPlan } from '../../pkg/controller/txn-plan.js';
import { allocateNic, type NicOutcome } from '../../pkg/controller/nics.js';
import { API_VERSION } from '../../pkg/api/index.js';
import { monotonicMs } from '../../pkg/runtime/clock.js';
import { client, guard, leaderKey, meta, modelFixture } from './model-fixture.js';

const COOLDOWN_MS = 40;

/** HostSubnet c-n1 (10.76.0.0/28, Docker's upper half: six addresses for NICs), all six taken; a7 waits. */
async function fullPool() {
  const { model, seed, ctx, cache } = modelFixture();
  const f = { ...ctx, addressCooldownMs: COOLDOWN_MS };
  const nic = (name: string, ip?: string) => seed(model.keys.object('ContainerNic', name),
    { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta(name), spec: { node: 'n1', container: name, ifName: 'eth1', network: { clusterNetwork: 'c' }, ...(ip ? { ip } : {}) } });
  seed(model.keys.object('Node', 'n1'), { apiVersion: API_VERSION, kind: 'Node', metadata: meta('n1'), spec: {} });
  seed(model.keys.object('ClusterNetwork', 'c'), { apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta('c'), spec: { cidr: '10.76.0.0/16', hostPrefix: 28 } });
  seed(model.keys.object('HostSubnet', 'c-n1'), { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta('c-n1'), spec: { node: 'n1', clusterNetwork: 'c' } });
  seed(model.keys.status('HostSubnet', 'c-n1', { controller: true }), { subnet: '10.76.0.0/28', gateway: '10.76.0.1', dockerRange: '10.76.0.8/29', bridge: 'br00' });
  const look = async (name: string): Promise<NicOutcome> => {
    const plan = new TxnPlan(guard, leaderKey);
    const out = allocateNic(f, name, plan, new Map());
    await plan.commit(client, cache);
    return out;
  };
  for (let i = 1; i <= 7; i++) nic(`a${i}`);
  for (let i = 1; i <= 6; i++) expect(await look(`a${i}`)).toMatchObject({ result: 'allocated' });
  expect(await look('a7')).toMatchObject({ result: 'waiting', reason: 'PoolExhausted' });
  expect((await look('a7')).coolingMs).toBeUndefined();
  return { model, cache, nic, look };
}

/** Releases a1's address (its claim deleted, as its NIC's delete commits it) and returns it. */
function release({ model, cache }: Pick<Awaited<ReturnType<typeof fullPool>>, 'model' | 'cache'>): string {
  const [claim] = model.claimsOf('a1-uid');
  // after the commits above (the fixture's etcd answers them at revision 1000)
  cache.applyLocalDelete(claim.key, '2000');
  return claim.claim.ip as string;
}

async function untilCooled(wait: number): Promise<void> {
  const end = monotonicMs() + wait;
  while (monotonicMs() < end) await new Promise((r) => setTimeout(r, 5));
}

describe('a ContainerNic whose only free address cools down', () => {
  it('is given the address by the look once the wait is over: a wait of 0 does not come twice', async () => {
    const pool = await fullPool();
    const { look } = pool;
    const freed = release(pool);
    const cooling = await look('a7');
    expect(cooling).toMatchObject({ result: 'waiting', reason: 'PoolExhausted' });
    expect(cooling.coolingMs).toBeGreaterThan(0);
    expect(cooling.coolingMs).toBeLessThanOrEqual(COOLDOWN_MS);
    await untilCooled(cooling.coolingMs!);
    expect(await look('a7')).toMatchObject({ result: 'allocated', ip: freed });
  });

  it('pinned by another NIC: waits with no cooling wait, before and after the cooldown, so nothing looks at it again in a loop', async () => {
    const pool = await fullPool();
    const { nic, look } = pool;
    const freed = release(pool);
    const cooling = await look('a7');
    expect(cooling.coolingMs).toBeGreaterThan(0);
    // another NIC asks for that very address by name: a7's pick must skip it
    nic('pin', freed);
    // not a7's to wait for, cooling or not: no look-again is asked for it
    expect((await look('a7')).coolingMs).toBeUndefined();
    await untilCooled(cooling.coolingMs!);
    const after = await look('a7');
    expect(after).toMatchObject({ result: 'waiting', reason: 'PoolExhausted' });
    expect(after.coolingMs).toBeUndefined();
  });
});
