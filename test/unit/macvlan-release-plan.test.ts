// What the agent gives back when a MacvlanNet leaves this node, and what it must keep: who still
// uses a parent (a macvlan ContainerNic of a MacvlanNet that no longer selects the node does),
// which parents are wanted promiscuous, and which Docker networks are a gone MacvlanNet's
// leftovers. Pure plans; the kernel and Docker side is test/integration/agent-macvlan-release.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerNic, MacvlanNet, Node } from '../../pkg/api/index.js';
import type { DockerNetwork } from '../../pkg/docker/types.js';
import type { HostState } from '../../pkg/netlink/ip.js';
import type { Link } from '../../pkg/netlink/types.js';
import { parentUsers, promiscuousWishes, type ParentUsersInput } from '../../pkg/agent/parent-users.js';
import { macvlanLeftovers, parentsInUse, parentsWantingPromisc, planParentRelease } from '../../pkg/agent/planner/index.js';
import { keysForDockerEvent, KEY_MACVLAN_LEFTOVERS, type EventScope } from '../../pkg/agent/events.js';
import { ParentRecord } from '../../pkg/agent/parent-record.js';

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, uid: name, generation: 1, ...extra });
const node = (labels: Record<string, string>): Node => ({ apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: meta('n1', { labels }), spec: { interface: 'eth0' } } as Node);
const mvn = (name: string, spec: Partial<MacvlanNet['spec']> = {}): MacvlanNet => ({
  apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: meta(name),
  spec: { subnet: '192.168.5.0/24', parent: `p-${name}`, nodeSelector: { matchLabels: { lan: 'yes' } }, ...spec },
} as MacvlanNet);
const nic = (name: string, net: string, nodeName = 'n1'): ContainerNic => ({
  apiVersion: 'xnet.io/v1alpha1', kind: 'ContainerNic', metadata: meta(name), spec: { node: nodeName, container: 'c', ifName: 'eth1', network: { macvlanNet: net } },
} as ContainerNic);
const none = () => ({ macvlanNets: new Set<string>(), nodes: new Set<string>(), nics: new Set<string>() });
const input = (over: Partial<ParentUsersInput>): ParentUsersInput => ({ node: 'n1', self: node({ lan: 'yes' }), macvlanNets: [], nics: [], unreadable: none(), ...over });
const net = (name: string, parent: string, owner?: string, containers = 0): DockerNetwork => ({
  id: name, name, containers, driver: 'macvlan', subnet: '192.168.5.0/24', options: { parent }, labels: owner ? { 'io.xnet.owner': owner } : {},
});
const link = (name: string, ifindex: number, extra: Partial<Link> = {}): Link => ({ name, ifindex, mac: '02:00:00:00:00:01', mtu: 1500, up: true, promisc: false, ...extra });
const host = (links: Link[]): HostState => ({ links, addrs: [], routes: [] });
const NO_USE = { addrs: [], routes: [], rules: [] };

describe('parentUsers: what keeps a parent in use', () => {
  it('counts the MacvlanNets that select the node, with their wish for promiscuous mode', () => {
    expect(parentUsers(input({ macvlanNets: [mvn('a'), mvn('b', { promiscuous: false }), mvn('c', { nodeSelector: { matchLabels: { lan: 'no' } } })] })))
      .toEqual([{ parent: 'p-a', promiscuous: true }, { parent: 'p-b', promiscuous: false }]);
  });

  it('counts a macvlan ContainerNic of this node whose MacvlanNet no longer selects the node (its link sits on the parent)', () => {
    const away = mvn('away', { nodeSelector: { matchLabels: { lan: 'elsewhere' } }, vlan: 7 });
    expect(parentUsers(input({ macvlanNets: [away] }))).toEqual([]);
    expect(parentUsers(input({ macvlanNets: [away], nics: [nic('x', 'away')] }))).toEqual([{ parent: 'p-away', vlan: 7, promiscuous: true }]);
    // another node's NIC, or one being deleted, is no use here
    expect(parentUsers(input({ macvlanNets: [away], nics: [nic('y', 'away', 'n2')] }))).toEqual([]);
    expect(parentUsers(input({ macvlanNets: [away], nics: [{ ...nic('z', 'away'), metadata: meta('z', { deletionTimestamp: '2024-01-01T00:00:00Z' }) }] }))).toEqual([]);
  });

  it('is in doubt (nothing released) when a NIC\'s MacvlanNet is gone or a key does not decode', () => {
    expect(parentUsers(input({ nics: [nic('x', 'deleted')] }))).toBeUndefined();
    for (const k of ['macvlanNets', 'nics'] as const) expect(parentUsers(input({ macvlanNets: [mvn('a')], unreadable: { ...none(), [k]: new Set(['q']) } }))).toBeUndefined();
    expect(parentUsers(input({ unreadable: { ...none(), nodes: new Set(['n1']) } }))).toBeUndefined();
    expect(parentUsers(input({ self: undefined }))).toBeUndefined();
  });
});

describe('parentsWantingPromisc and the release: promiscuous mode goes when no user wants it', () => {
  const h = host([link('eth1', 3, { promisc: true })]);
  const records = { eth1: { ifindex: 3, promisc: true, up: true } };
  const users = [{ parent: 'eth1', promiscuous: false }];
  const wishes = promiscuousWishes([mvn('lan', { promiscuous: false })]);

  it('turns off only promiscuous mode on a parent still in use that no MacvlanNet wants promiscuous', () => {
    const docker = [net('lan', 'eth1', 'MacvlanNet/lan')];
    const plan = planParentRelease({ records, inUse: parentsInUse(users, docker, h), wantPromisc: parentsWantingPromisc(users, docker, wishes), host: h, use: NO_USE });
    expect(plan).toEqual({ ops: [{ op: 'link.set.promisc', name: 'eth1', on: false }], released: [], promiscReleased: ['eth1'], kept: [] });
  });

  it('keeps it while a MacvlanNet on the parent wants it, or a Docker network of the user\'s or of a gone MacvlanNet sits there', () => {
    const keep = (u: typeof users, docker: DockerNetwork[]) =>
      planParentRelease({ records, inUse: parentsInUse(u, docker, h), wantPromisc: parentsWantingPromisc(u, docker, wishes), host: h, use: NO_USE }).ops;
    expect(keep([...users, { parent: 'eth1', promiscuous: true }], [])).toEqual([]);
    expect(keep(users, [net('mine', 'eth1')])).toEqual([]);
    expect(keep(users, [net('old', 'eth1', 'MacvlanNet/gone', 1)])).toEqual([]);
  });

  it('never turns off a promiscuous mode xnet did not set (not in the record)', () => {
    expect(planParentRelease({ records: { eth1: { ifindex: 3, up: true } }, inUse: new Set(['eth1']), wantPromisc: new Set(), host: h, use: NO_USE }).ops).toEqual([]);
  });

  const dir = mkdtempSync(join(tmpdir(), 'xnet-promisc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('drops only the promiscuous flag from the record (the parent xnet brought up stays recorded)', () => {
    const rec = new ParentRecord(join(dir, 'parents.json'), () => undefined, () => 'boot');
    rec.note([{ name: 'eth1', ifindex: 3, promisc: true, up: true }, { name: 'eth2', ifindex: 4, promisc: true }]);
    rec.forgetPromisc(['eth1', 'eth2']);
    expect(new ParentRecord(rec.path, () => undefined, () => 'boot').entries()).toEqual({ eth1: { ifindex: 3, up: true } });
  });
});

describe('macvlanLeftovers: the Docker networks of MacvlanNets no longer in the view', () => {
  const docker = [net('a', 'eth1', 'MacvlanNet/gone'), net('b', 'eth1', 'MacvlanNet/here'), net('c', 'eth1'), net('d', 'eth1', 'HostSubnet/gone'),
    net('e', 'eth1', 'MacvlanNet/odd'), net('f', 'eth1', 'MacvlanNet/../../x'), net('g', 'eth1', 'MacvlanNet/')];

  it('names only xnet\'s MacvlanNet networks whose MacvlanNet is absent, and not one whose key does not decode', () => {
    // this node made each of them (its network record says so: network-record.ts)
    const made = new Map(docker.flatMap((n) => (n.labels['io.xnet.owner'] ? [[n.id, n.labels['io.xnet.owner']]] : [])));
    expect(macvlanLeftovers(docker, new Set(['here']), new Set(['odd']), made).names).toEqual(['gone']);
  });

  it('is looked for when Docker says a container or network went', () => {
    const scope: EventScope = { node: 'n1', nics: [], hostSubnets: [], macvlanNets: [], macvlanParents: new Map() };
    for (const [type, action] of [['container', 'die'], ['container', 'destroy'], ['network', 'disconnect'], ['network', 'destroy']] as const) {
      expect(keysForDockerEvent({ type, action, id: 'i', name: 'c', timeNano: 0 }, scope)).toContain(KEY_MACVLAN_LEFTOVERS);
    }
    expect(keysForDockerEvent({ type: 'container', action: 'start', id: 'i', name: 'c', timeNano: 0 }, scope)).not.toContain(KEY_MACVLAN_LEFTOVERS);
  });
});
