// A NIC's allocation checked against its pool before the agent configures it (pkg/agent/nic-address.ts).
import { describe, expect, it } from 'vitest';
import { API_VERSION, type HostSubnet, type MacvlanNet } from '../../pkg/api/index.js';
import { hostSubnetPool, macvlanNetPool, nicAddressProblem } from '../../pkg/agent/nic-address.js';

const hs = { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'default-host-1' }, spec: { node: 'host-1', clusterNetwork: 'default' } } as unknown as HostSubnet;
const mvn = (spec: Partial<MacvlanNet['spec']>) => ({ apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: { name: 'lan' }, spec: { subnet: '192.168.50.0/24', ...spec } }) as unknown as MacvlanNet;
const veth = hostSubnetPool(hs, { subnet: '10.76.1.0/24', gateway: '10.76.1.1', dockerRange: '10.76.1.128/25' });
const why = (pool: typeof veth, ip: string, more: { prefixLength?: number; gateway?: string } = {}) => nicAddressProblem('n1', { ip, ...more }, pool)?.message;

describe('a NIC\'s address against its HostSubnet', () => {
  it('takes what the controller hands out: the subnet less Docker\'s half, the gateway, network and broadcast', () => {
    expect(why(veth, '10.76.1.84', { prefixLength: 24, gateway: '10.76.1.1' })).toBeUndefined();
    for (const ip of ['10.76.1.0', '10.76.1.1', '10.76.1.200', '10.76.1.255', '10.76.2.5', '192.168.1.1']) {
      expect(why(veth, ip)).toBe(`ContainerNic n1: status.ip ${ip} is not an address HostSubnet default-host-1 (10.76.1.0/24) hands out: `
        + 'waiting for the controller to allocate it anew (its network was edited?); the NIC is not configured with it');
    }
    // it decodes: not InvalidStatus (a value that does not decode), but waiting for the controller
    expect(nicAddressProblem('n1', { ip: '10.76.1.200' }, veth)?.reason).toBe('StaleAllocation');
  });
  it('refuses a prefix length that is not the subnet\'s, and a gateway outside it', () => {
    expect(why(veth, '10.76.1.84', { prefixLength: 8 })).toMatch(/status\.prefixLength 8 is not that of 10\.76\.1\.0\/24/);
    expect(why(veth, '10.76.1.84', { gateway: '192.168.1.1' })).toMatch(/status\.gateway 192\.168\.1\.1 is outside 10\.76\.1\.0\/24/);
  });
  it('without a known Docker range, still refuses the gateway and anything outside the subnet', () => {
    const bare = hostSubnetPool(hs, { subnet: '10.76.1.0/24', gateway: '10.76.1.1' });
    expect(why(bare, '10.76.1.200')).toBeUndefined();
    expect(why(bare, '10.76.1.1')).toMatch(/not an address/);
    expect(why(bare, '10.76.2.1')).toMatch(/not an address/);
  });
});

describe('a macvlan NIC\'s address against its MacvlanNet', () => {
  it('refuses the LAN router, a host\'s own address in exclude, and what lies outside the ipRange', () => {
    const lan = macvlanNetPool(mvn({ gateway: '192.168.50.254', ipRange: '192.168.50.128/25', exclude: ['192.168.50.130/32'] }));
    expect(why(lan, '192.168.50.140', { prefixLength: 24, gateway: '192.168.50.254' })).toBeUndefined();
    for (const ip of ['192.168.50.254', '192.168.50.130', '192.168.50.10']) expect(why(lan, ip)).toMatch(/is not an address MacvlanNet lan \(192\.168\.50\.128\/25\) hands out/);
  });
  it('an ipRange shrunk under the NIC\'s address (the controller has not moved it yet): waiting for the controller, not InvalidStatus', () => {
    const shrunk = macvlanNetPool(mvn({ subnet: '198.19.10.0/24', ipRange: '198.19.10.64/28' }));
    expect(nicAddressProblem('n1', { ip: '198.19.10.94', prefixLength: 24 }, shrunk)).toEqual({
      reason: 'StaleAllocation',
      message: 'ContainerNic n1: status.ip 198.19.10.94 is not an address MacvlanNet lan (198.19.10.64/28) hands out: '
        + 'waiting for the controller to allocate it anew (its network was edited?); the NIC is not configured with it',
    });
  });
  it('without spec.gateway refuses the subnet\'s first address, the gateway Docker uses', () => {
    expect(why(macvlanNetPool(mvn({})), '192.168.50.1')).toMatch(/not an address MacvlanNet lan \(192\.168\.50\.0\/24\)/);
  });
});
