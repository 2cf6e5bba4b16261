// What a node's new report of the addresses Docker's containers hold on its HostSubnet
// (status.dockerHeld) causes in the controller: the NICs holding a newly listed address are
// looked at again (moved unless in place), and an address no longer listed (the container left)
// wakes the network's NICs waiting for a free address, as a claim deleted does: left to their
// backoff, they waited up to 30 s for an address that was free.
import { describe, expect, it } from 'vitest';
import type { HostSubnet } from '../../pkg/api/index.js';
import { effectsOfChange, type ChangeScope } from '../../pkg/controller/events.js';
import { IpamKeys, type Claim } from '../../pkg/ipam/keys.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import type { RawKv } from '../../pkg/runtime/kv.js';
import { Keys } from '../../pkg/store/keys.js';

const keys = new Keys('/xnet');
const ipam = new IpamKeys('/xnet');
const kv = (key: string, value: unknown): RawKv => ({ key, value: JSON.stringify(value), createRevision: '1', modRevision: '2', lease: '0' } as RawKv);
const hs = { apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: { name: 'apps-n1' }, spec: { node: 'n1', clusterNetwork: 'apps' } } as HostSubnet;
const claim: Claim = { owner: { kind: 'ContainerNic', name: 'raced', uid: 'u1' }, role: 'nic', ip: '10.82.0.200', node: 'n1' };
// a NIC of another node, in its own HostSubnet's block of the same ClusterNetwork
const foreign: Claim = { owner: { kind: 'ContainerNic', name: 'elsewhere', uid: 'u2' }, role: 'nic', ip: '10.82.1.200', node: 'n2' };
const scope = {
  keys, ipam,
  object: () => undefined,
  hostSubnet: (name: string) => (name === hs.metadata.name ? { obj: hs, kv: kv('k', hs) } : undefined),
  claimsIn: () => new Map([claim, foreign].map((c) => [parseIPv4(c.ip!), { claim: c }])),
} as unknown as ChangeScope;
const report = (node: string, dockerHeld?: string[]) => kv(keys.status('HostSubnet', hs.metadata.name, { node }), {
  ...(dockerHeld ? { dockerHeld } : {}), conditions: [{ type: 'Ready', status: 'True', reason: 'Converged', message: 'in place' }],
});
const effects = (node: string, prev: string[] | undefined, now: string[] | undefined) =>
  effectsOfChange({ key: keys.status('HostSubnet', hs.metadata.name, { node }), local: false, prev: report(node, prev), kv: report(node, now) }, scope);

describe('a node\'s report of the addresses Docker\'s containers hold on its HostSubnet', () => {
  it('queues the NIC holding a newly listed address, and wakes nobody', () => {
    expect(effects('n1', ['10.82.0.201'], ['10.82.0.200', '10.82.0.201'])).toMatchObject({ keys: ['ContainerNic/raced'], wake: [] });
  });

  it('queues no NIC of another node at a listed address: the report counts for none of them', () => {
    expect(effects('n1', [], ['10.82.1.200']).keys).toEqual([]);
    expect(effects('n1', [], ['10.82.0.200', '10.82.1.200']).keys).toEqual(['ContainerNic/raced']);
  });

  it('wakes the network\'s waiting NICs when an address is no longer listed (also when none is left)', () => {
    expect(effects('n1', ['10.82.0.200', '10.82.0.201'], ['10.82.0.201']).wake).toEqual(['clusternetworks/apps']);
    expect(effects('n1', ['10.82.0.201'], undefined).wake).toEqual(['clusternetworks/apps']);
  });

  it('does nothing for a report that lists nothing new and drops nothing, nor for another node\'s', () => {
    expect(effects('n1', ['10.82.0.201'], ['10.82.0.201'])).toMatchObject({ keys: [], wake: [] });
    expect(effects('n1', undefined, undefined)).toMatchObject({ keys: [], wake: [] });
    expect(effects('n2', ['10.82.0.201'], ['10.82.0.200'])).toMatchObject({ keys: [], wake: [] });
  });
});

describe('a NIC\'s report turning AddressInUse', () => {
  const nicReport = (reason?: string) => reason === undefined ? undefined
    : kv(keys.status('ContainerNic', 'raced', { node: 'n1' }), { conditions: [{ type: 'Ready', status: reason === 'Attached' ? 'True' : 'False', reason, message: 'm' }] });
  const nicEffects = (prev?: string, now?: string) =>
    effectsOfChange({ key: keys.status('ContainerNic', 'raced', { node: 'n1' }), local: false, prev: nicReport(prev), kv: nicReport(now) }, scope).keys;

  // the node's dockerHeld report can come before the NIC's allocation commits: no claim in the
  // cache then, so the report queued nothing; the NIC's own report is what brings it back
  it('queues the NIC once, when its Ready reason becomes AddressInUse', () => {
    expect(nicEffects('Attached', 'AddressInUse')).toEqual(['ContainerNic/raced']);
    expect(nicEffects(undefined, 'AddressInUse')).toEqual(['ContainerNic/raced']);
    expect(nicEffects('AddressInUse', 'AddressInUse')).toEqual([]);
    expect(nicEffects('Attached', 'Attached')).toEqual([]);
  });
});
