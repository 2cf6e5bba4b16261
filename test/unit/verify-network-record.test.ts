// The agent's own verify (and `xctl lab verify`) of a HostSubnet whose bridge is still that of
// xnet's network of a gone HostSubnet, which containers still use: the agent reports
// NetworkInUse, since its network record (pkg/agent/network-record.ts) says it made that
// network. A verify that did not read the record took that bridge for a link xnet did not make
// and told the user to choose another bridge name (BridgeNameTaken).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { API_VERSION, type ClusterNetwork, type HostSubnet, type MacvlanNet, type Node } from '../../pkg/api/index.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { bridgeAlias } from '../../pkg/agent/planner/names.js';
import { bridgeNetworkSpec } from '../../pkg/agent/desired.js';
import { NetworkRecord, readOnly } from '../../pkg/agent/network-record.js';
import type { DockerNetwork } from '../../pkg/docker/types.js';
import { differences, type DifferencesInput } from '../../pkg/verify/verify.js';
import type { Store } from '../../pkg/store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'xnet-verify-record-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const meta = (name: string) => ({ name, generation: 1 });
const cn = (name: string, dockerNetwork: string): ClusterNetwork =>
  ({ apiVersion: API_VERSION, kind: 'ClusterNetwork', metadata: meta(name), spec: { cidr: '10.76.0.0/16', hostPrefix: 24, dockerNetwork } }) as ClusterNetwork;
const hs = (name: string, clusterNetwork: string): HostSubnet =>
  ({ apiVersion: API_VERSION, kind: 'HostSubnet', metadata: meta(name), spec: { node: 'host-1', clusterNetwork, subnet: '10.76.1.0/24', bridge: 'br01' } }) as HostSubnet;
const self: Node = { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'host-1' }, spec: {} };

// ClusterNetwork "old" was deleted and made again as "new": the same bridge, a container still on old's network
const gone = hs('old-host-1', 'old');
const spec = bridgeNetworkSpec(gone, cn('old', 'oldnet')).spec!;
const oldnet: DockerNetwork = { id: 'id-oldnet', name: 'oldnet', driver: 'bridge', subnet: spec.subnet, gateway: spec.gateway, options: spec.options, labels: spec.labels, containers: 1 };
const br01 = { ifindex: 5, name: 'br01', kind: 'bridge', mac: '02:42:0a:4c:01:01', mtu: 1500, up: true, promisc: false, alias: bridgeAlias('old-host-1') };

function input(networks?: DifferencesInput['networks']): DifferencesInput {
  const list = <T extends { metadata: { name: string } }>(xs: T[]) => ({ list: () => xs, get: (n: string) => xs.find((x) => x.metadata.name === n) });
  const recorded: Op[] = [];
  const dp = {
    ip: { links: async () => [br01], addrs: async () => [], linksAndAddrs: async () => ({ links: [br01], addrs: [] }), routes: async () => [] },
    dockerNetworks: async () => [oldnet],
    underlay: async () => ({ address: '198.18.0.11', interface: 'eth0', local: ['198.18.0.11'] }),
    execute: async (ops: Op[]) => { recorded.push(...ops); },
    take: () => recorded.splice(0),
  };
  return {
    node: 'host-1', store: {} as Store, dp: dp as unknown as DifferencesInput['dp'], ...(networks ? { networks } : {}),
    caches: { nodes: list([self]), clusterNetworks: list([cn('new', 'newnet')]), hostSubnets: list([hs('new-host-1', 'new')]), nics: list([]), macvlanNets: list([]) } as unknown as DifferencesInput['caches'],
  };
}

describe('verify of a HostSubnet whose bridge a gone HostSubnet\'s network still holds', () => {
  it('says NetworkInUse, as the agent does, when the agent\'s record says it made that network; and leaves the record as it was', async () => {
    const record = new NetworkRecord(join(dir, 'networks.json'), () => undefined);
    // and one the agent made a moment after the verify's look at Docker: the verify must not forget it
    record.update(new Map([['id-oldnet', 'HostSubnet/old-host-1'], ['id-just-made', 'HostSubnet/new-host-1']]));
    const diffs = (await differences(input(readOnly(record)))).filter((d) => d.what === 'hostsubnet/new-host-1');
    expect(diffs.map((d) => d.found)).toEqual([expect.stringMatching(/^NetworkInUse: bridge br01 is still the bridge of Docker network oldnet \(HostSubnet\/old-host-1, gone\)/)]);
    expect(Object.fromEntries(new NetworkRecord(record.path, () => undefined).made())).toEqual({ 'id-oldnet': 'HostSubnet/old-host-1', 'id-just-made': 'HostSubnet/new-host-1' });
  });
});

// A gone HostSubnet's network that nothing uses any more, recorded as made here: the agent
// removes it and Docker takes its bridge with it. The verify removes nothing, and read the
// links again after the removal it only planned: it found the bridge still there and listed
// its deletion (link br01) as a difference the real run never makes.
describe('verify of a gone HostSubnet\'s network that the agent removes', () => {
  it('lists the network\'s removal alone: its bridge goes with it, not as a leftover bridge', async () => {
    const record = new NetworkRecord(join(dir, 'networks-gone.json'), () => undefined);
    record.update(new Map([['id-oldnet', 'HostSubnet/old-host-1']]));
    const base = input(readOnly(record));
    const list = <T extends { metadata: { name: string } }>(xs: T[]) => ({ list: () => xs, get: (n: string) => xs.find((x) => x.metadata.name === n) });
    Object.assign(base.dp, { dryRun: true, dockerNetworks: async () => [{ ...oldnet, containers: 0 }] });
    const caches = { ...base.caches, clusterNetworks: list([]), hostSubnets: list([]) } as unknown as DifferencesInput['caches'];
    // the passes this fake host does not model (routes, NAT, NICs) fail apart
    const diffs = (await differences({ ...base, caches })).filter((d) => ['docker network', 'link', 'bridges and Docker networks'].includes(d.what));
    expect(diffs.map((d) => `${d.what}: ${d.expected} (found ${d.found})`)).toEqual(['docker network: absent (found oldnet)']);
  });
});

// A MacvlanNet served here, with a macvlan network labelled for it under another name: the
// agent removes that network only when its record holds it (planner/macvlan.ts), and so does
// the verify's plan, which reads the same record.
const lan: MacvlanNet = {
  apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: meta('lan'),
  spec: { subnet: '192.168.200.0/24', gateway: '192.168.200.1', mode: 'bridge', promiscuous: true, hostShim: false, blockPrefix: 28, dockerIPAM: 'blocks' },
  status: { nodes: [{ name: 'host-1', dockerRange: '192.168.200.128/28' }] },
} as MacvlanNet;
const lanLabels = { 'io.xnet.owner': 'MacvlanNet/lan' };
const lanNet: DockerNetwork = { id: 'id-lan', name: 'lan', driver: 'macvlan', subnet: '192.168.200.0/24', gateway: '192.168.200.1', ipRange: '192.168.200.128/28', options: { parent: 'eth0', macvlan_mode: 'bridge' }, labels: lanLabels, containers: 0 };
const usernet: DockerNetwork = { id: 'id-usernet', name: 'usernet', driver: 'macvlan', subnet: '10.50.0.0/24', options: { parent: 'eth0' }, labels: lanLabels, containers: 0 };

function macvlanInput(networks: DifferencesInput['networks']): DifferencesInput {
  const base = input(networks);
  const list = <T extends { metadata: { name: string } }>(xs: T[]) => ({ list: () => xs, get: (n: string) => xs.find((x) => x.metadata.name === n) });
  const eth0 = { ifindex: 2, name: 'eth0', mac: '02:00:00:00:00:02', mtu: 1500, up: true, promisc: true };
  const node: Node = { ...self, status: { interface: 'eth0' } } as Node;
  const dp = base.dp as unknown as Record<string, unknown>;
  Object.assign(dp, {
    dockerNetworks: async () => [lanNet, usernet],
    hostState: async () => ({ links: [eth0], addrs: [], routes: [] }),
    docker: { inspectNetwork: async (n: string) => [lanNet, usernet].find((x) => x.name === n), listNetworks: async () => [lanNet, usernet] },
  });
  return { ...base, caches: { ...base.caches, nodes: list([node]), clusterNetworks: list([]), hostSubnets: list([]), macvlanNets: list([lan]) } as unknown as DifferencesInput['caches'] };
}

describe('verify of a MacvlanNet with a network labelled for it under another name', () => {
  it('plans that network\'s removal only when the agent\'s record holds it, as the agent does', async () => {
    const mentions = async (record: NetworkRecord) =>
      (await differences(macvlanInput(readOnly(record)))).filter((d) => JSON.stringify(d).includes('usernet'));
    const none = new NetworkRecord(join(dir, 'mvn-none.json'), () => undefined);
    expect(await mentions(none)).toEqual([]);
    const made = new NetworkRecord(join(dir, 'mvn-made.json'), () => undefined);
    made.update(new Map([['id-usernet', 'MacvlanNet/lan']]));
    expect(await mentions(made)).toHaveLength(1);
  });
});
