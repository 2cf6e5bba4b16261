// What xnet changed on a MacvlanNet's parent is recorded and undone once no MacvlanNet uses it;
// what the host had before stays (the parent planner and the record file).
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostState, HostUse } from '../../pkg/netlink/ip.js';
import type { Link } from '../../pkg/netlink/types.js';
import type { DockerNetwork } from '../../pkg/docker/types.js';
import { planMacvlan, parentChanges, parentsInUse, planParentRelease, type DesiredMacvlan } from '../../pkg/agent/planner/index.js';
import { hostReliance } from '../../pkg/agent/planner/parents.js';
import { releasePlan } from '../../pkg/agent/reconcilers/parents.js';
import { parseAddrs, parseRouteHops, parseRules } from '../../pkg/netlink/parse.js';
import { describeRule, type Rule } from '../../pkg/netlink/types.js';
import { currentEntries, parseRecord, ParentRecord, withChanges, MAX_RECORDED_LINKS, type ParentEntries } from '../../pkg/agent/parent-record.js';

const link = (name: string, ifindex: number, extra: Partial<Link> = {}): Link => ({ name, ifindex, mac: '02:00:00:00:00:' + ifindex.toString(16).padStart(2, '0'), mtu: 1500, up: true, promisc: false, ...extra });
const host = (links: Link[], addrs: HostState['addrs'] = [], routes: HostState['routes'] = []): HostState => ({ links, addrs, routes });
const tempDirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'xnet-parents-'));
  tempDirs.push(dir);
  return dir;
};
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const d: DesiredMacvlan = { name: 'mv', parent: 'eth1', promiscuous: true };
/** nothing beyond the host read's own IPv4 view */
const NO_USE: HostUse = { addrs: [], routes: [], rules: [] };
const vlanNet = (parent: string): DockerNetwork => ({
  id: 'x', containers: 1, name: 'other', driver: 'macvlan', subnet: '192.168.5.0/24', options: { parent }, labels: { 'io.xnet.owner': 'MacvlanNet/other' },
});

describe('parentChanges: what a macvlan plan changes on a host interface, recorded before it runs', () => {
  it('records promiscuous mode and bringing up that the plan does to an existing parent', () => {
    const h = host([link('eth1', 3, { up: false })]);
    const p = planMacvlan(d, h, []);
    expect(p.ops).toEqual([{ op: 'link.set.up', name: 'eth1' }, { op: 'link.set.promisc', name: 'eth1', on: true }]);
    expect(parentChanges(d, p.ops, h)).toEqual([{ name: 'eth1', ifindex: 3, promisc: true, up: true }]);
  });

  it('records nothing for a parent already up and promiscuous (the host\'s own state)', () => {
    const h = host([link('eth1', 3, { promisc: true })]);
    expect(parentChanges(d, planMacvlan(d, h, []).ops, h)).toEqual([]);
  });

  it('records nothing for a VLAN link the plan makes, nor for one xnet made (both are marked and deleted whole)', () => {
    const v = { ...d, vlan: 300 };
    const fresh = host([link('eth1', 3)]);
    expect(parentChanges(v, planMacvlan(v, fresh, []).ops, fresh)).toEqual([]);
    const made = host([link('eth1', 3), link('eth1.300', 9, { kind: 'vlan', vlanId: 300, parent: 'eth1', alias: 'xnet:vlan', up: false })]);
    expect(parentChanges(v, planMacvlan(v, made, []).ops, made)).toEqual([]);
    // the host's own VLAN link, used by xnet: recorded like any parent
    const own = host([link('eth1', 3), link('eth1.300', 9, { kind: 'vlan', vlanId: 300, parent: 'eth1' })]);
    expect(parentChanges(v, planMacvlan(v, own, []).ops, own)).toEqual([{ name: 'eth1.300', ifindex: 9, promisc: true }]);
  });
});

describe('planParentRelease: undo only what xnet did, only when nothing uses the parent', () => {
  const records: ParentEntries = { eth1: { ifindex: 3, promisc: true, up: true } };

  it('turns promiscuous mode off and takes the link down when the record says xnet did both', () => {
    const h = host([link('eth0', 2), link('eth1', 3, { promisc: true })]);
    expect(planParentRelease({ use: NO_USE, records, inUse: new Set(), host: h })).toEqual({
      ops: [{ op: 'link.set.promisc', name: 'eth1', on: false }, { op: 'link.set.down', name: 'eth1' }],
      released: ['eth1'], promiscReleased: [],
      kept: [],
    });
  });

  it('leaves a parent another MacvlanNet uses (directly or as its VLAN base) as it is', () => {
    const h = host([link('eth1', 3, { promisc: true })]);
    expect(planParentRelease({ use: NO_USE, records, inUse: parentsInUse([{ parent: 'eth1' }], [], h), host: h })).toEqual({ ops: [], released: [], promiscReleased: [], kept: [] });
    expect(planParentRelease({ use: NO_USE, records, inUse: parentsInUse([{ parent: 'eth1', vlan: 7 }], [], h), host: h })).toEqual({ ops: [], released: [], promiscReleased: [], kept: [] });
  });

  it('leaves a parent whose Docker network still waits for its containers', () => {
    const h = host([link('eth1', 3, { promisc: true }), link('eth1.300', 9, { kind: 'vlan', parent: 'eth1', alias: 'xnet:vlan' })]);
    expect(planParentRelease({ use: NO_USE, records, inUse: parentsInUse([], [vlanNet('eth1.300')], h), host: h }).ops).toEqual([]);
  });

  it('leaves a parent (and an xnet VLAN link) a Docker network of the user\'s uses', () => {
    const h = host([link('eth1', 3, { promisc: true }), link('eth1.300', 9, { kind: 'vlan', parent: 'eth1', alias: 'xnet:vlan' })]);
    const users = [{ ...vlanNet('eth1.300'), name: 'mine', driver: 'ipvlan' as never, labels: {} }];
    const all = { eth1: { ifindex: 3, promisc: true, up: true } };
    expect(planParentRelease({ use: NO_USE, records: all, inUse: parentsInUse([], users, h), host: h }).ops).toEqual([]);
    expect(planParentRelease({ use: NO_USE, records: all, inUse: parentsInUse([], [], h), host: h }).ops.length).toBeGreaterThan(0);
  });

  it('keeps what the host had: a parent promiscuous or up before xnet (no record) stays so', () => {
    const h = host([link('eth1', 3, { promisc: true })]);
    expect(planParentRelease({ use: NO_USE, records: {}, inUse: new Set(), host: h })).toEqual({ ops: [], released: [], promiscReleased: [], kept: [] });
    // xnet set promiscuous mode only: the link stays up
    expect(planParentRelease({ use: NO_USE, records: { eth1: { ifindex: 3, promisc: true } }, inUse: new Set(), host: h }).ops)
      .toEqual([{ op: 'link.set.promisc', name: 'eth1', on: false }]);
  });

  it('never takes down a link the host relies on: the Node\'s interface, one with an address, a route or links on it', () => {
    const on = link('eth1', 3, { promisc: true });
    const off = [{ op: 'link.set.promisc', name: 'eth1', on: false }];
    expect(planParentRelease({ use: NO_USE, records, inUse: new Set(), host: host([on]), nodeInterface: 'eth1' }).ops).toEqual(off);
    expect(planParentRelease({ use: NO_USE, records, inUse: new Set(), host: host([on], [{ dev: 'eth1', cidr: '198.18.0.11/24' }]) }).ops).toEqual(off);
    expect(planParentRelease({ use: NO_USE, records, inUse: new Set(), host: host([on], [], [{ dst: '10.1.0.0/16', dev: 'eth1', proto: 'static' }]) }).ops).toEqual(off);
    expect(planParentRelease({ use: NO_USE, records, inUse: new Set(), host: host([on, link('mine', 8, { kind: 'macvlan', parent: 'eth1' })]) }).ops).toEqual(off);
  });

  it('takes down a veth end xnet brought up: its peer names it as its link but is no upper', () => {
    const h = host([link('xpa0', 3, { kind: 'veth', parent: 'xpa1', promisc: true }), link('xpa1', 4, { kind: 'veth', parent: 'xpa0', up: false })]);
    expect(planParentRelease({ use: NO_USE, records: { xpa0: { ifindex: 3, promisc: true, up: true } }, inUse: new Set(), host: h }).ops).toEqual([
      { op: 'link.set.promisc', name: 'xpa0', on: false }, { op: 'link.set.down', name: 'xpa0' },
    ]);
  });

  it('does nothing to a link someone already changed back, and drops the record', () => {
    const h = host([link('eth1', 3, { up: false })]);
    expect(planParentRelease({ use: NO_USE, records, inUse: new Set(), host: h })).toEqual({ ops: [], released: ['eth1'], promiscReleased: [], kept: [] });
  });

  it('deletes a VLAN link only when it carries xnet\'s mark and nothing uses it, then undoes its base', () => {
    const marked = link('eth1.300', 9, { kind: 'vlan', vlanId: 300, parent: 'eth1', alias: 'xnet:vlan' });
    const hosts = link('eth1.400', 10, { kind: 'vlan', vlanId: 400, parent: 'eth1' });
    const h = host([link('eth1', 3, { promisc: true }), marked, hosts]);
    // the host's own eth1.400 sits on eth1: eth1 stays up
    expect(planParentRelease({ use: NO_USE, records, inUse: new Set(), host: h })).toEqual({
      ops: [{ op: 'link.del', name: 'eth1.300' }, { op: 'link.set.promisc', name: 'eth1', on: false }],
      released: ['eth1.300', 'eth1'], promiscReleased: [],
      kept: [{ name: 'eth1', why: 'eth1.400 (vlan) sits on it' }],
    });
    // in use by a remaining MacvlanNet: stays, and so does its base
    expect(planParentRelease({ use: NO_USE, records, inUse: parentsInUse([{ parent: 'eth1', vlan: 300 }], [], h), host: h }).ops).toEqual([]);
    // the base goes down once xnet's VLAN link (its only upper) is gone
    expect(planParentRelease({ use: NO_USE, records, inUse: new Set(), host: host([link('eth1', 3, { promisc: true }), marked]) }).ops).toEqual([
      { op: 'link.del', name: 'eth1.300' }, { op: 'link.set.promisc', name: 'eth1', on: false }, { op: 'link.set.down', name: 'eth1' },
    ]);
  });

  it('keeps a marked VLAN link the host put an address on', () => {
    const h = host([link('eth1', 3), link('eth1.300', 9, { kind: 'vlan', parent: 'eth1', alias: 'xnet:vlan' })], [{ dev: 'eth1.300', cidr: '10.3.0.1/24' }]);
    expect(planParentRelease({ use: NO_USE, records: {}, inUse: new Set(), host: h }).ops).toEqual([]);
  });
});

describe('hostReliance: what the host uses beyond IPv4 main-table routes keeps a link up (and an xnet VLAN link in place)', () => {
  const records: ParentEntries = { eth1: { ifindex: 3, promisc: true, up: true } };
  const on = link('eth1', 3, { promisc: true });
  const off = [{ op: 'link.set.promisc', name: 'eth1', on: false }];
  const down = [...off, { op: 'link.set.down', name: 'eth1' }];
  const release = (h: HostState, use: Partial<HostUse> = {}) => planParentRelease({ records, inUse: new Set(), host: h, use: { ...NO_USE, ...use } }).ops;
  // what the kernel gives every up link with IPv6 on, and nothing of the host's own
  const auto: HostUse = {
    addrs: [{ dev: 'eth1', cidr: 'fe80::e823:4ff:fe71:915/64' }],
    routes: [
      { dst: 'fe80::/64', dev: 'eth1', proto: 'kernel' },
      { dst: 'fe80::e823:4ff:fe71:915', dev: 'eth1', proto: 'kernel', table: 'local' },
      { dst: 'ff00::/8', dev: 'eth1', proto: 'kernel', table: 'local', metric: 256 },
    ],
    rules: [],
  };

  it('keeps a link that is a port of a bond or bridge (it has a master) up', () => {
    expect(release(host([link('eth1', 3, { promisc: true, master: 'bond0' }), link('bond0', 4, { kind: 'bond' })]))).toEqual(off);
  });

  it('keeps a bond or bridge with ports enslaved to it up', () => {
    expect(release(host([on, link('eth5', 6, { master: 'eth1' })]))).toEqual(off);
  });

  it('keeps a link with an IPv6 address other than link-local up', () => {
    expect(release(host([on]), { addrs: [...auto.addrs, { dev: 'eth1', cidr: '2001:db8::5/64' }], routes: auto.routes })).toEqual(off);
    expect(release(host([on]), { addrs: [{ dev: 'eth1', cidr: 'fd00:1::5/64' }], routes: [] })).toEqual(off);
  });

  it('keeps a link named by a route of any table or family up', () => {
    expect(release(host([on]), { addrs: [], routes: [{ dst: '10.20.0.0/16', dev: 'eth1', proto: 'boot', table: '100' }] })).toEqual(off);
    expect(release(host([on]), { addrs: [], routes: [{ dst: '2001:db8:5::/48', dev: 'eth1', proto: 'boot', table: '200' }] })).toEqual(off);
    expect(release(host([on]), { addrs: [], routes: [{ dst: 'default', via: 'fe80::1', dev: 'eth1', proto: 'ra' }] })).toEqual(off);
  });

  it('still takes down a link that has only what the kernel autoconfigures (IPv6 link-local address and its routes)', () => {
    expect(release(host([on]), auto)).toEqual(down);
  });

  it('keeps a VLAN link xnet made when the host enslaved it, addressed it in IPv6 or routes through it in another table', () => {
    const vlan = (extra: Partial<Link> = {}) => link('eth1.300', 9, { kind: 'vlan', vlanId: 300, parent: 'eth1', alias: 'xnet:vlan', ...extra });
    const keep = (h: HostState, use: Partial<HostUse> = {}) => planParentRelease({ records: {}, inUse: new Set(), host: h, use: { ...NO_USE, ...use } }).ops;
    expect(keep(host([link('eth1', 3), vlan({ master: 'br0' }), link('br0', 10, { kind: 'bridge' })]))).toEqual([]);
    expect(keep(host([link('eth1', 3), vlan()]), { addrs: [{ dev: 'eth1.300', cidr: '2001:db8::5/64' }], routes: [] })).toEqual([]);
    expect(keep(host([link('eth1', 3), vlan()]), { addrs: [], routes: [{ dst: '10.20.0.0/16', dev: 'eth1.300', proto: 'boot', table: '100' }] })).toEqual([]);
    expect(keep(host([link('eth1', 3), vlan()]), { addrs: [{ dev: 'eth1.300', cidr: 'fe80::1/64' }], routes: [] })).toEqual([{ op: 'link.del', name: 'eth1.300' }]);
  });

  // policy rules, as parseRules reads them from `ip -j -4|-6 rule show`
  const rule = (extra: Partial<Rule>): Rule => ({ family: 'inet', priority: 32765, action: 'lookup 100', ...extra });

  it('keeps a link named by a policy rule of either family, as iif or oif, up and says which rule', () => {
    const plan = (rules: Rule[]) => planParentRelease({ records, inUse: new Set(), host: host([on]), use: { ...NO_USE, rules } });
    expect(plan([rule({ iif: 'eth1' })])).toEqual({ ops: off, released: ['eth1'], promiscReleased: [], kept: [{ name: 'eth1', why: 'a policy rule names it (ip rule 32765: iif eth1 lookup 100)' }] });
    expect(plan([rule({ family: 'inet6', priority: 50, oif: 'eth1', action: 'lookup 200' })]).kept)
      .toEqual([{ name: 'eth1', why: 'a policy rule names it (ip -6 rule 50: oif eth1 lookup 200)' }]);
    // a negated rule still names the link: what it means changes with the link
    expect(plan([rule({ iif: 'eth1', not: true, action: 'blackhole' })]).ops).toEqual(off);
    // a rule on another link, or on none, says nothing of eth1
    expect(plan([rule({ iif: 'eth2' }), rule({ oif: 'eth1.7' })])).toEqual({ ops: down, released: ['eth1'], promiscReleased: [], kept: [] });
  });

  it('keeps a VLAN link xnet made while a policy rule names it, and deletes it once the rule is gone', () => {
    const h = host([link('eth1', 3), link('eth1.300', 9, { kind: 'vlan', vlanId: 300, parent: 'eth1', alias: 'xnet:vlan' })]);
    const plan = (rules: Rule[]) => planParentRelease({ records: {}, inUse: new Set(), host: h, use: { ...NO_USE, rules } });
    expect(plan([rule({ oif: 'eth1.300' })])).toEqual({ ops: [], released: [], promiscReleased: [], kept: [{ name: 'eth1.300', why: 'a policy rule names it (ip rule 32765: oif eth1.300 lookup 100)' }] });
    expect(plan([])).toEqual({ ops: [{ op: 'link.del', name: 'eth1.300' }], released: ['eth1.300'], promiscReleased: [], kept: [] });
  });

  it('says why it keeps a link, for each kind of reliance', () => {
    const why = (h: HostState, use: Partial<HostUse> = {}, nodeInterface?: string) => hostReliance('eth1', { host: h, use: { ...NO_USE, ...use }, nodeInterface });
    expect(why(host([on]), {}, 'eth1')).toBe('it is the Node\'s interface');
    expect(why(host([link('eth1', 3, { master: 'bond0' })]))).toBe('it is a port of bond0');
    expect(why(host([on, link('eth5', 6, { master: 'eth1' })]))).toBe('eth5 is a port of it');
    expect(why(host([on, link('mine', 8, { kind: 'macvlan', parent: 'eth1' })]))).toBe('mine (macvlan) sits on it');
    expect(why(host([on]), { addrs: [{ dev: 'eth1', cidr: '2001:db8::5/64' }] })).toBe('it carries the address 2001:db8::5/64');
    expect(why(host([on]), { routes: [{ dst: '10.20.0.0/16', dev: 'eth1', proto: 'boot', table: '100' }] })).toBe('the route 10.20.0.0/16 in table 100 goes through it');
    expect(why(host([on]), auto)).toBeUndefined();
  });
});

describe('reading the host\'s use of its links, only when a release would take one away', () => {
  it('reads IPv6 addresses and every route of every table, a multipath route once per next hop', () => {
    // `ip -j addr show` and `ip -j -4/-6 route show table all` of a lab namespace
    const addrs = [{ ifname: 'eth1', addr_info: [{ family: 'inet', local: '10.9.0.1', prefixlen: 24 }, { family: 'inet6', local: '2001:db8::1', prefixlen: 64 }, { family: 'inet6', local: 'fe80::e823:4ff:fe71:915', prefixlen: 64 }] }];
    expect(parseAddrs(addrs)).toEqual([{ dev: 'eth1', cidr: '10.9.0.1/24' }]);
    expect(parseAddrs(addrs, ['inet', 'inet6'])).toEqual([
      { dev: 'eth1', cidr: '10.9.0.1/24' }, { dev: 'eth1', cidr: '2001:db8::1/64' }, { dev: 'eth1', cidr: 'fe80::e823:4ff:fe71:915/64' },
    ]);
    const routes = [
      { dst: '10.20.0.0/16', dev: 'eth1', table: '100', scope: 'link', flags: [] },
      { dst: '10.30.0.0/16', flags: [], nexthops: [{ dev: 'eth1', weight: 1, flags: [] }, { gateway: '10.9.0.7', dev: 'eth2p', weight: 1, flags: [] }] },
      { type: 'multicast', dst: 'ff00::/8', dev: 'eth1', table: 'local', protocol: 'kernel', metric: 256, flags: [], pref: 'medium' },
    ];
    expect(parseRouteHops(routes)).toEqual([
      { dst: '10.20.0.0/16', dev: 'eth1', proto: 'boot', table: '100', scope: 'link' },
      { dst: '10.30.0.0/16', dev: 'eth1', proto: 'boot' },
      { dst: '10.30.0.0/16', via: '10.9.0.7', dev: 'eth2p', proto: 'boot' },
      { dst: 'ff00::/8', dev: 'eth1', proto: 'kernel', table: 'local', metric: 256 },
    ]);
  });

  it('reads the policy rules of both families that name a link as iif or oif, and only those', () => {
    // `ip -j rule show` and `ip -6 -j rule show` of a lab namespace (iproute2 6.1): the kernel's
    // own lookups, a rule on addresses only, and rules naming links (one gone: "_detached")
    const v4 = [
      { priority: 0, src: 'all', table: 'local' },
      { priority: 7, not: null, src: 'all', iif: 'a1', iif_detached: null, table: '11' },
      { priority: 8, src: 'all', fwmark: '0x3', iif: 'a1', oif: 'a0', table: '9' },
      { priority: 10, src: 'all', oif: 'a0', goto: 32766 },
      { priority: 49, src: '10.0.0.0', srclen: 8, table: '5' },
      { priority: 32765, src: 'all', iif: 'a0', action: 'blackhole' },
      { priority: 32766, src: 'all', table: 'main' },
      { priority: 32767, src: 'all', table: 'default' },
    ];
    const v6 = [{ priority: 0, src: 'all', table: 'local' }, { priority: 32764, src: 'all', oif: 'a1', table: '300' }, { priority: 32766, src: 'all', table: 'main' }];
    const rules = [...parseRules(v4, 'inet'), ...parseRules(v6, 'inet6')];
    expect(rules).toEqual([
      { family: 'inet', priority: 7, iif: 'a1', not: true, action: 'lookup 11' },
      { family: 'inet', priority: 8, iif: 'a1', oif: 'a0', action: 'lookup 9' },
      { family: 'inet', priority: 10, oif: 'a0', action: 'goto 32766' },
      { family: 'inet', priority: 32765, iif: 'a0', action: 'blackhole' },
      { family: 'inet6', priority: 32764, oif: 'a1', action: 'lookup 300' },
    ]);
    expect(rules.map(describeRule)).toEqual([
      'ip rule 7: not iif a1 lookup 11', 'ip rule 8: iif a1 oif a0 lookup 9', 'ip rule 10: oif a0 goto 32766',
      'ip rule 32765: iif a0 blackhole', 'ip -6 rule 32764: oif a1 lookup 300',
    ]);
    expect(parseRules([], 'inet6')).toEqual([]);
  });

  it('reads it only for a plan that takes a link down or deletes one, and plans again with it', async () => {
    let reads = 0;
    const read = (use: HostUse) => async () => { reads++; return use; };
    const records: ParentEntries = { eth1: { ifindex: 3, promisc: true, up: true } };
    const h = host([link('eth1', 3, { promisc: true })]);
    // promiscuous mode off only (xnet did not bring it up): nothing more is read
    expect((await releasePlan({ records: { eth1: { ifindex: 3, promisc: true } }, inUse: new Set(), host: h }, read(NO_USE))).ops).toEqual([{ op: 'link.set.promisc', name: 'eth1', on: false }]);
    expect(reads).toBe(0);
    // a route in table 100 the IPv4 main-table view does not show keeps it up
    const table100: HostUse = { addrs: [], routes: [{ dst: '10.20.0.0/16', dev: 'eth1', proto: 'boot', table: '100' }], rules: [] };
    expect((await releasePlan({ records, inUse: new Set(), host: h }, read(table100))).ops).toEqual([{ op: 'link.set.promisc', name: 'eth1', on: false }]);
    expect(reads).toBe(1);
    expect((await releasePlan({ records, inUse: new Set(), host: h }, read(NO_USE))).ops).toEqual([
      { op: 'link.set.promisc', name: 'eth1', on: false }, { op: 'link.set.down', name: 'eth1' },
    ]);
    expect(reads).toBe(2);
    // a policy rule, which the host read's own view does not have, keeps it up and says so
    const ruled: HostUse = { ...NO_USE, rules: [{ family: 'inet', priority: 32765, iif: 'eth1', action: 'lookup 100' }] };
    expect(await releasePlan({ records, inUse: new Set(), host: h }, read(ruled))).toEqual({
      ops: [{ op: 'link.set.promisc', name: 'eth1', on: false }], released: ['eth1'], promiscReleased: [],
      kept: [{ name: 'eth1', why: 'a policy rule names it (ip rule 32765: iif eth1 lookup 100)' }],
    });
    expect(reads).toBe(3);
  });
});

describe('the parent record', () => {
  const BOOT = '0b7e5f0e-0000-4000-8000-000000000001';

  it('holds for one boot: a record written before a reboot says nothing', () => {
    const text = JSON.stringify({ version: 1, bootId: BOOT, links: { eth1: { ifindex: 3, promisc: true } } });
    expect(parseRecord(text, BOOT)).toEqual({ links: { eth1: { ifindex: 3, promisc: true } } });
    expect(parseRecord(text, 'another-boot')).toEqual({ links: {} });
  });

  it('holds for one link: an entry for a link made again since (another ifindex), or gone, is ignored', () => {
    const links: ParentEntries = { eth1: { ifindex: 3, promisc: true }, eth2: { ifindex: 4, up: true } };
    expect(currentEntries(links, [{ name: 'eth1', ifindex: 3 }, { name: 'eth2', ifindex: 14 }])).toEqual({ eth1: { ifindex: 3, promisc: true } });
  });

  it('reads an unparsable or foreign file as empty, saying why', () => {
    expect(parseRecord('{not json', BOOT).links).toEqual({});
    expect(parseRecord('{not json', BOOT).bad).toMatch(/not JSON/);
    expect(parseRecord(JSON.stringify({ version: 1, bootId: BOOT, links: { eth1: { ifindex: 'x' } } }), BOOT).bad).toMatch(/not a parent record/);
  });

  it('keeps flags it recorded before for the same link, and starts over for a new ifindex', () => {
    expect(withChanges({ eth1: { ifindex: 3, promisc: true } }, [{ name: 'eth1', ifindex: 3, up: true }]).links).toEqual({ eth1: { ifindex: 3, promisc: true, up: true } });
    expect(withChanges({ eth1: { ifindex: 3, promisc: true } }, [{ name: 'eth1', ifindex: 5, up: true }]).links).toEqual({ eth1: { ifindex: 5, up: true } });
  });

  it('is bounded: links beyond the cap are not recorded', () => {
    const full: ParentEntries = Object.fromEntries(Array.from({ length: MAX_RECORDED_LINKS }, (_, i) => [`l${i}`, { ifindex: i + 1 }]));
    const r = withChanges(full, [{ name: 'extra', ifindex: 999, promisc: true }, { name: 'l0', ifindex: 1, promisc: true }]);
    expect(r.dropped).toEqual(['extra']);
    expect(r.links.l0).toEqual({ ifindex: 1, promisc: true });
  });

  it('writes the file whole under its boot id, reads it back, and treats a broken file as empty without throwing', () => {
    const dir = tempDir();
    const warnings: string[] = [];
    const rec = new ParentRecord(join(dir, 'sub', 'parents.json'), (m) => warnings.push(m), () => BOOT);
    expect(rec.note([{ name: 'eth1', ifindex: 3, promisc: true }])).toBe(true);
    expect(JSON.parse(readFileSync(rec.path, 'utf8'))).toEqual({ version: 1, bootId: BOOT, links: { eth1: { ifindex: 3, promisc: true } } });
    expect(existsSync(`${rec.path}.tmp`)).toBe(false);
    expect(new ParentRecord(rec.path, () => undefined, () => BOOT).entries()).toEqual({ eth1: { ifindex: 3, promisc: true } });
    expect(new ParentRecord(rec.path, () => undefined, () => 'rebooted').entries()).toEqual({});
    rec.forget(['eth1']);
    expect(JSON.parse(readFileSync(rec.path, 'utf8')).links).toEqual({});
    writeFileSync(rec.path, '{"version":1,');
    const broken = new ParentRecord(rec.path, (m) => warnings.push(m), () => BOOT);
    expect(broken.entries()).toEqual({});
    expect(warnings.join('\n')).toMatch(/not JSON.*treating the parent record as empty/);
    expect(existsSync(`${rec.path}.bad`)).toBe(true);
    expect(broken.note([{ name: 'eth2', ifindex: 4, up: true }])).toBe(true);
    expect(new ParentRecord(rec.path, () => undefined, () => BOOT).entries()).toEqual({ eth2: { ifindex: 4, up: true } });
  });

  it('records nothing without a boot id (the change would not be undone), and says so', () => {
    const warnings: string[] = [];
    const rec = new ParentRecord(join(tempDir(), 'parents.json'), (m) => warnings.push(m), () => undefined);
    expect(rec.note([{ name: 'eth1', ifindex: 3, promisc: true }])).toBe(false);
    expect(existsSync(rec.path)).toBe(false);
    expect(warnings[0]).toMatch(/boot_id/);
  });
});
