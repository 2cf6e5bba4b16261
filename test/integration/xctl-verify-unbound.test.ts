// `xctl verify` and objects declared for a node no Node has (a typo in spec.node: host1 for
// host-1): no agent will ever hold them, so they are differences (exit 1) naming the missing
// Node, not a clean "no differences" because every existing Node's agent reports clean.
import { beforeAll, describe, expect, it } from 'vitest';
import { xctlInProcess } from '../harness/xctl-in-process.js';
import { Keys } from '../../pkg/store/keys.js';
import { obj } from './helpers.js';

const lab = xctlInProcess('verify-unbound');
const xctl = (args: string[]) => lab.xctl(args);
beforeAll(async () => {
  await lab.store.applyAll([
    obj('Node', 'host-1', { address: '198.18.0.11' }),
    obj('ClusterNetwork', 'pods', { cidr: '10.76.0.0/16', hostPrefix: 24 }),
    obj('ContainerNic', 'good-eth1', { node: 'host-1', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'pods' } }),
  ]);
  // host-1's agent reports that its host holds everything declared for it
  const report = { node: 'host-1', since: new Date().toISOString(), differences: [], total: 0 };
  await lab.etcd.client().put(new Keys().nodeObserved('host-1')).value(JSON.stringify(report));
});

describe('xctl verify and objects bound to a Node that does not exist', () => {
  it('is clean while every object is bound to an existing Node', async () => {
    const r = await xctl(['verify']);
    expect(r).toMatchObject({ code: 0, out: 'no differences: host-1 reports it holds what etcd declares\n' });
  });

  it('lists each such object under the node it names, with the closest Node, exit 1', async () => {
    await lab.store.applyAll([
      obj('ContainerNic', 'typo-eth1', { node: 'host1', container: 'web', ifName: 'eth1', network: { clusterNetwork: 'pods' } }),
      obj('HostSubnet', 'typo-pods', { node: 'host2', clusterNetwork: 'pods' }),
      obj('MacvlanNet', 'lan', { subnet: '192.168.200.0/24', nodes: [{ name: 'host-1', parent: 'eth0' }, { name: 'hots-1', parent: 'eth1' }] }),
    ]);
    const r = await xctl(['verify']);
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n').slice(1).map((l) => l.split(/\s{3,}/));
    expect(lines).toEqual([
      ['host2', 'hostsubnet/typo-pods', 'Node "host2" (spec.node)', 'none: no Node "host2" exists (did you mean "host-1"?): check spec.node'],
      ['host1', 'containernic/typo-eth1', 'Node "host1" (spec.node)', 'none: no Node "host1" exists (did you mean "host-1"?): check spec.node'],
      ['hots-1', 'macvlannet/lan', 'Node "hots-1" (spec.nodes[].name)', expect.stringMatching(/^none: spec\.nodes names no Node "hots-1" \(did you mean "host-1"\?\)/)],
    ]);
    expect(r.err).toBe('3 difference(s)\n');
  });

  it('leaves them out of verify --node of an existing Node: they are no difference of its host', async () => {
    const r = await xctl(['verify', '--node', 'host-1']);
    expect(r).toMatchObject({ code: 0, out: 'no differences: host-1 reports it holds what etcd declares\n' });
  });
});
