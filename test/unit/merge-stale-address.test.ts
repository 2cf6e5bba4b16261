// The merged Ready of a ContainerNic whose node's report is about an address the NIC no longer
// has (store/stale-report.ts). Found in a new-user trial: host-3's agent killed, then `xctl
// delete node host-3 --force`: the controller released h3-web-eth1's address (Allocated False
// WaitingForHostSubnet, no ip), but `xctl get` showed READY True from the agent's last report
// ("eth1 is in container web with 10.80.0.4/24") and `xctl wait` returned 0 for it.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type AnyObject } from '../../pkg/api/index.js';
import type { Condition } from '../../pkg/api/fields.js';
import { hiddenNodeConditions, mergeStatus, withStatus } from '../../pkg/store/merge.js';

const t = '2026-12-05T00:00:00Z';
const nic = { apiVersion: API_VERSION, kind: 'ContainerNic', metadata: { name: 'h3-web-eth1' }, spec: { node: 'host-3', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'apps' } } } as AnyObject;
const hs = { apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'apps-host-3' }, spec: { node: 'host-3', clusterNetwork: 'apps' } } as AnyObject;
const noHostSubnet = 'node "host-3" has no allocated HostSubnet on ClusterNetwork "apps" yet; no Node "host-3" exists (did you mean "host-1"?): check spec.node';
const released = { conditions: [
  { type: 'Allocated', status: 'False' as const, reason: 'WaitingForHostSubnet', message: noHostSubnet, lastTransitionTime: t },
  { type: 'Ready', status: 'False' as const, reason: 'WaitingForHostSubnet', message: noHostSubnet, lastTransitionTime: t },
] };
const allocated = (ip: string) => ({ ip, prefixLength: 24, conditions: [
  { type: 'Allocated', status: 'True' as const, reason: 'Allocated', message: `${ip}/24 allocated`, lastTransitionTime: t },
  { type: 'Ready', status: 'False' as const, reason: 'WaitingForAgent', message: 'waiting for the agent of node "host-3" to put eth1 into container "web"', lastTransitionTime: t },
] });
const inContainer = (ip?: string, status: 'True' | 'Unknown' | 'False' = 'True', reason = 'Converged') => ({
  ...(ip ? { observedIp: ip } : {}), containerId: 'id-web',
  conditions: [{ type: 'Ready', status, reason, message: `eth1 is in container web with ${ip ?? '10.80.0.4'}/24`, lastTransitionTime: t }],
});
const nodes = (report: Record<string, unknown>) => new Map([['host-3', report]]);
const ready = (o: AnyObject) => (o.status as { conditions: Condition[] }).conditions.find((c) => c.type === 'Ready');

describe('a node\'s Ready True about an address the NIC no longer has', () => {
  it('is not shown once the controller released the address: its Ready (why) is, naming the report it hides', () => {
    const r = ready(withStatus(nic, released, nodes(inContainer('10.80.0.4'))));
    expect(r).toMatchObject({ status: 'False', reason: 'WaitingForHostSubnet' });
    expect(r?.message).toBe(`${noHostSubnet}; the node's last report, Ready True Converged ("eth1 is in container web with 10.80.0.4/24"), `
      + 'is about an address the controller has released');
  });

  it('nor from an agent that does not name the address it acted on (no observedIp): no address is no address', () => {
    expect(ready(withStatus(nic, released, nodes(inContainer()))))
      .toMatchObject({ status: 'False', reason: 'WaitingForHostSubnet' });
  });

  it('nor once the controller gave the NIC another address (its MacvlanNet\'s range edited while the agent is down)', () => {
    const r = ready(withStatus(nic, allocated('10.80.0.9'), nodes(inContainer('10.80.0.4'))));
    expect(r).toMatchObject({ status: 'False', reason: 'WaitingForAgent' });
    expect(r?.message).toMatch(/is about 10\.80\.0\.4, not the NIC's address 10\.80\.0\.9$/);
  });

  it('nor an Attaching (Unknown) about it', () => {
    expect(ready(withStatus(nic, released, nodes(inContainer('10.80.0.4', 'Unknown', 'Attaching'))))?.reason).toBe('WaitingForHostSubnet');
  });

  it('describe shows the node\'s report in a row of its own', () => {
    expect(hiddenNodeConditions(nic, released, nodes(inContainer('10.80.0.4')))).toMatchObject({ node: 'host-3', conditions: [{ status: 'True', reason: 'Converged' }] });
  });

  it('a report about the NIC\'s address is shown, with observedIp or without (an agent before it)', () => {
    expect(ready(withStatus(nic, allocated('10.80.0.4'), nodes(inContainer('10.80.0.4'))))).toMatchObject({ status: 'True', reason: 'Converged' });
    expect(ready(withStatus(nic, allocated('10.80.0.4'), nodes(inContainer()))))?.toMatchObject({ status: 'True' });
    expect(hiddenNodeConditions(nic, allocated('10.80.0.4'), nodes(inContainer('10.80.0.4')))).toBeUndefined();
  });

  it('a node\'s Ready False says why itself (the node\'s, as before), and other kinds are as before', () => {
    expect(ready(withStatus(nic, released, nodes(inContainer('10.80.0.4', 'False', 'ContainerNotFound'))))?.reason).toBe('ContainerNotFound');
    expect(ready(withStatus(hs, released, nodes(inContainer()))))?.toMatchObject({ status: 'True' });
    expect(mergeStatus(released, inContainer('10.80.0.4'))?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });
});
