// A NIC that waits for an address because every free one of its HostSubnet's xnet part is held
// by Docker's containers (status.dockerHeld of the node's report) gets one once they leave: the
// report that no longer lists them is what frees those addresses for the controller, as a claim
// deleted is for the others (it wakes the waiting NICs: test/unit/docker-held-events.test.ts). A
// NIC not in place moved off such an address when none other is free has none meanwhile. Real etcd, the real controller; the reports are written as the
// node's agent writes them (its status key of the HostSubnet), controller/hostsubnet-docker-held.ts.
import { describe, expect, it } from 'vitest';
import { hostSubnetXnetRange } from '../../pkg/api/rules.js';
import { formatIPv4 } from '../../pkg/ip/ipv4.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { obj, eventually, statusOf, uniquePrefix, useControllerFixture } from './controller-helpers.js';
import { HS, cond, nicOn, reportDockerHeld } from './docker-held-fixture.js';

const prefix = uniquePrefix();
const f = useControllerFixture(prefix, { addressCooldownMs: 0 });

const allocated = (name: string, status: 'True' | 'False') => eventually(async () => {
  const o = await f.store.get('ContainerNic', name);
  const c = cond(o, 'Allocated');
  return c?.status === status ? { ip: statusOf(o).ip as string | undefined, reason: c.reason } : undefined;
}, `${name} Allocated ${status}`, 10_000);
const report = (dockerHeld?: string[]) => reportDockerHeld(f.store, 'host-1', dockerHeld);

describe('addresses Docker\'s containers held, no longer reported', () => {
  it('are given to a NIC that waited for a free address', async () => {
    await f.store.applyAll([
      obj('ClusterNetwork', 'apps', { cidr: '10.83.0.0/21', hostPrefix: 24 }),
      obj('Node', 'host-1', { address: '198.18.0.11' }),
      nicOn('first'),
    ]);
    const first = (await allocated('first', 'True')).ip!;
    const st = statusOf(await f.store.get('HostSubnet', HS));
    const part = hostSubnetXnetRange({ subnet: String(st.subnet), gateway: String(st.gateway), dockerRange: String(st.dockerRange) });
    const all: string[] = [];
    for (const r of part) for (let ip = r.first; ip <= r.last; ip++) all.push(formatIPv4(ip));
    expect(all.length).toBeLessThanOrEqual(256);
    // containers hold every address of the xnet part, the first NIC's too (it is not in its
    // container yet): it is moved, but no address is left, so it has none and waits, its claim
    // released (not kept as a duplicate of the container's); the next NIC waits as well
    await report(all);
    expect(await allocated('first', 'False')).toMatchObject({ reason: 'PoolExhausted', ip: undefined });
    await f.store.applyAll([nicOn('late')]);
    expect((await allocated('late', 'False')).reason).toBe('PoolExhausted');
    let r = await ipamCheck(f.etcd.client(), prefix);
    expect(r.problems, r.text).toBe(0);
    expect(r.text).not.toContain(`${first} `);

    // the containers leave: the node's report lists none, and both NICs get an address
    await report();
    const [a, b] = [(await allocated('first', 'True')).ip, (await allocated('late', 'True')).ip];
    expect(a).not.toBe(b);
    r = await ipamCheck(f.etcd.client(), prefix);
    expect(r.problems, r.text).toBe(0);
  });
});
