// `xctl get nic` IP and `get hs` SUBNET: what the controller allocated, `<pending>` until then
// (docs/xctl.md). A pinned spec.ip or spec.subnet the controller refused (IPConflict: another
// NIC holds it; OutOfRange; SubnetConflict) used to show in the column as if held, so two rows
// could show one address while only one NIC has it.
import { describe, expect, it } from 'vitest';
import { tableHeader, tableRow } from '../../pkg/cli/format.js';
import type { AnyObject } from '../../pkg/api/types.js';

const refused = (reason: string) => ({ conditions: [{ type: 'Allocated', status: 'False', reason }, { type: 'Ready', status: 'False', reason }] });
const nic = (status?: Record<string, unknown>) => ({
  apiVersion: 'xnet.io/v1alpha1', kind: 'ContainerNic', metadata: { name: 'web-eth1' },
  spec: { node: 'host-1', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'pods' }, ip: '10.76.1.84', defaultRoute: false },
  ...(status ? { status } : {}),
}) as AnyObject;
const hs = (status?: Record<string, unknown>) => ({
  apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: { name: 'pods-host-1' },
  spec: { node: 'host-1', clusterNetwork: 'pods', subnet: '10.76.1.0/24', bridge: 'br01', icc: true },
  ...(status ? { status } : {}),
}) as AnyObject;

describe('get: a pinned address or subnet the controller has not allocated', () => {
  it('ContainerNic IP shows <pending>, then the allocated address with its prefix', () => {
    expect(tableRow(nic(refused('IPConflict')), false)[4]).toBe('<pending>');
    expect(tableRow(nic(), false)[4]).toBe('<pending>');
    expect(tableRow(nic({ ip: '10.76.1.84', prefixLength: 24 }), false)[4]).toBe('10.76.1.84/24');
  });
  it('HostSubnet SUBNET shows <pending>, then the allocated subnet', () => {
    expect(tableRow(hs(refused('SubnetConflict')), false)[2]).toBe('<pending>');
    expect(tableRow(hs({ subnet: '10.76.1.0/24' }), false)[2]).toBe('10.76.1.0/24');
  });
  it('HostSubnet BRIDGE (and -o wide GATEWAY, DOCKERRANGE) show what was allocated, not the pinned spec', () => {
    const pinned = { ...hs(refused('SubnetConflict')), spec: { ...hs().spec, gateway: '10.76.1.1', dockerRange: '10.76.1.128/25' } } as AnyObject;
    const row = tableRow(pinned, true);
    expect(row[3]).toBe('<pending>');
    expect(row.slice(7, 9)).toEqual(['<none>', '<none>']);
    expect(tableRow(hs({ subnet: '10.76.1.0/24', bridge: 'br01' }), false)[3]).toBe('br01');
  });
});

describe('get mvn VLAN', () => {
  it('shows <none> without a vlan, as every other empty value (it showed "-")', () => {
    const mvn = (vlan?: number) => ({ apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan' }, spec: { subnet: '198.19.7.0/24', mode: 'bridge', ...(vlan ? { vlan } : {}) } }) as AnyObject;
    expect(tableRow(mvn(), false)[3]).toBe('<none>');
    expect(tableRow(mvn(200), false)[3]).toBe('200');
  });
});

describe('get mvn -o wide', () => {
  it('shows USED (addresses in containers, dockerIPAM xnet) beside FREE', () => {
    const mvn = { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan' }, spec: { subnet: '198.19.0.0/24', mode: 'bridge' }, status: { allocated: 12, used: 7, free: 240 } } as unknown as AnyObject;
    const header = tableHeader('MacvlanNet', true);
    const row = tableRow(mvn, true);
    expect(row[header.indexOf('USED')]).toBe('7');
    expect(row[header.indexOf('FREE')]).toBe('240');
    expect(row[header.indexOf('ALLOCATED')]).toBe('12');
  });
});
