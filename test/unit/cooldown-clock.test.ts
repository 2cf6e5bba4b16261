// The reuse cooldown of a released NIC address is timed by a clock that does not step when the
// wall clock is set (NTP, an admin, a VM resumed): a wall clock put forward by an hour must not
// end a 30 s cooldown at once (neighbours' ARP caches still map the address to the old MAC),
// nor one put back keep the address out of use for an hour.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { plannerCtx, P } from './planner-ctx.js';

const claimKey = `${P}/ipam/clusternetworks/cn/addresses/010.064.000.010`;
const claim = { owner: { kind: 'ContainerNic', name: 'n1', uid: 'u1' }, role: 'nic', ip: '10.64.0.10', node: 'h1' };
const ip = (10 << 24) + (64 << 16) + 10;

afterEach(() => { vi.useRealTimers(); });

function released() {
  const { cache, model, seed } = plannerCtx({} as Etcd3);
  seed(claimKey, claim);
  cache.applyLocalDelete(claimKey, '99');
  return model;
}

describe('address reuse cooldown', () => {
  it('holds while the wall clock is put an hour forward', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const model = released();
    expect(model.coolingUntil('clusternetworks', 'cn', ip, 30_000)).toBeDefined();
    vi.setSystemTime(Date.now() + 3_600_000);
    expect(model.coolingUntil('clusternetworks', 'cn', ip, 30_000)).toBeDefined();
  });

  it('ends after the cooldown while the wall clock is put an hour back', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const model = released();
    vi.setSystemTime(Date.now() - 3_600_000);
    await new Promise((r) => setTimeout(r, 60));
    expect(model.coolingUntil('clusternetworks', 'cn', ip, 50)).toBeUndefined();
  });
});
