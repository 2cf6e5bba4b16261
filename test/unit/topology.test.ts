// xctl topology's drawings from objects (pure): hosts with their subnets, bridges, NICs,
// routes from the other hosts, macvlan segments; Ready or not.
import { describe, expect, it } from 'vitest';
import { renderDot, renderText, type Cluster } from '../../pkg/topology/render.js';

const ready = { conditions: [{ type: 'Ready', status: 'True' as const }] };
const notReady = { conditions: [{ type: 'Ready', status: 'False' as const, reason: 'BridgeMissing' }] };
const meta = (name: string) => ({ name });
const cluster = {
  nodes: [
    { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: meta('host-1'), spec: {}, status: { address: '198.18.0.11', ...ready } },
    { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: meta('host-2'), spec: {}, status: { address: '198.18.0.12', ...notReady } },
  ],
  clusterNetworks: [],
  hostSubnets: [
    { apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: meta('default-host-1'), spec: { node: 'host-1', clusterNetwork: 'default', icc: true }, status: { subnet: '10.76.1.0/24', bridge: 'br01', nodeAddress: '198.18.0.11', ...ready } },
  ],
  nics: [
    { apiVersion: 'xnet.io/v1alpha1', kind: 'ContainerNic', metadata: meta('t-eth1'), spec: { node: 'host-1', container: 'test', ifName: 'eth1', network: { clusterNetwork: 'default' }, defaultRoute: false }, status: { ip: '10.76.1.5', ...notReady } },
  ],
  macvlanNets: [
    { apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: meta('mv'), spec: { subnet: '192.168.200.0/24', vlan: 200 }, status: { nodes: [{ name: 'host-2', parent: 'eth0.200', shimAddress: '192.168.200.250', ready: true }], ...ready } },
  ],
} as unknown as Cluster;

describe('topology', () => {
  it('text: each host with its subnets, routes from peers, NICs; macvlan segments; Ready marks', () => {
    expect(renderText(cluster)).toBe([
      'node host-1 198.18.0.11 [Ready]',
      '  subnet 10.76.1.0/24 bridge br01 (default) [Ready]',
      '    routed from host-2 via 198.18.0.11',
      '  container test eth1 10.76.1.5 on default [NotReady]',
      'node host-2 198.18.0.12 [NotReady]',
      'macvlan mv 192.168.200.0/24 vlan 200 nodes host-2:eth0.200 shim 192.168.200.250 [Ready]',
      '',
    ].join('\n'));
  });

  it('shows <pending> for a pinned subnet or address the controller has not allocated (it may have refused it)', () => {
    const pinned = {
      ...cluster,
      hostSubnets: [{ ...cluster.hostSubnets[0], spec: { ...cluster.hostSubnets[0].spec, subnet: '10.76.9.0/24', bridge: 'br09' }, status: notReady }],
      nics: [{ ...cluster.nics[0], spec: { ...cluster.nics[0].spec, ip: '10.76.9.90' }, status: { ...notReady, conditions: [{ type: 'Ready', status: 'False', reason: 'OutOfRange' }] } }],
    } as unknown as Cluster;
    const text = renderText(pinned);
    expect(text).toContain('  subnet <pending> bridge <pending> (default) [NotReady]');
    expect(text).toContain('  container test eth1 <pending> on default [NotReady]');
    expect(text).not.toMatch(/10\.76\.9\./);
    expect(renderDot(pinned)).not.toMatch(/10\.76\.9\./);
  });

  it('dot: a graph with hosts as clusters on the underlay, route edges and colours', () => {
    const dot = renderDot(cluster);
    expect(dot).toMatch(/^graph xnet \{/);
    expect(dot).toContain('underlay -- "node_host-1";');
    expect(dot).toContain('"hs_default-host-1" [label="br01\\n10.76.1.0/24", color=darkgreen];');
    expect(dot).toContain('"nic_t-eth1" [label="test:eth1\\n10.76.1.5", shape=oval, color=red];');
    expect(dot).toContain('"node_host-2" -- "hs_default-host-1" [style=dotted, label="route via 198.18.0.11"];');
    expect(dot).toContain('"node_host-2" -- "mvn_mv" [label="eth0.200 shim 192.168.200.250", color=darkgreen];');
    expect(dot.trim().endsWith('}')).toBe(true);
  });
});
