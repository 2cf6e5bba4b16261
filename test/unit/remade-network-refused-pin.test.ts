// xctl apply/diff warn of a HostSubnet layout edit Docker cannot make in place (docker-network.ts
// remadeNetworkWarnings), compared with what the HostSubnet has. A pinned spec.subnet the
// controller refused (SubnetConflict) has nothing on its node: no bridge, no Docker network
// (agent/desired.ts refusedPin). Moving the pin to a free subnet, the fix its refusal asks for,
// was warned of as a network Docker cannot move, "NetworkInUse and keeps the old value". And a
// HostSubnet that keeps its allocated subnet after a refused edit is on that subnet, not on the
// refused spec: a later edit said "(was <the refused subnet>)".
import { describe, expect, it } from 'vitest';
import { remadeNetworkWarnings } from '../../pkg/api/docker-network.js';

const refusal = { type: 'Allocated', status: 'False', reason: 'SubnetConflict', message: 'subnet 10.76.1.128/25 overlaps HostSubnet "default-host-1" (10.76.1.0/24)' };
const hs = (spec: Record<string, unknown>, status?: Record<string, unknown>) => ({
  kind: 'HostSubnet', metadata: { name: 'default-host-2' },
  spec: { node: 'host-2', clusterNetwork: 'default', ...spec }, ...(status ? { status } : {}),
});

describe('xctl apply warnings for a HostSubnet whose pinned subnet the controller refused', () => {
  it('moving a refused pin to a free subnet warns of nothing: no network exists to be made again', () => {
    const stored = hs({ subnet: '10.76.1.128/25', gateway: '10.76.1.129', bridge: 'br02' }, { conditions: [refusal] });
    const edit = hs({ subnet: '10.76.2.0/24', gateway: '10.76.2.1', bridge: 'br02' });
    expect(remadeNetworkWarnings([edit], [stored])).toEqual([]);
  });

  it('a HostSubnet that kept its subnet after a refused edit is compared with the subnet it has', () => {
    const stored = hs({ subnet: '10.76.1.128/25' }, { subnet: '10.76.2.0/24', gateway: '10.76.2.1', bridge: 'br02', dockerRange: '10.76.2.128/25', conditions: [refusal] });
    const [line, ...more] = remadeNetworkWarnings([hs({ subnet: '10.76.3.0/24' })], [stored]);
    expect(more).toEqual([]);
    expect(line).toMatch(/^hostsubnet\/default-host-2: spec.subnet 10.76.3.0\/24 \(was 10.76.2.0\/24\) is a setting Docker cannot change/);
  });

  it('a pin the controller has not looked at yet (its node makes it from the spec) is still warned of', () => {
    const stored = hs({ subnet: '10.76.1.0/24' });
    expect(remadeNetworkWarnings([hs({ subnet: '10.76.2.0/24' })], [stored])).toHaveLength(1);
  });
});
