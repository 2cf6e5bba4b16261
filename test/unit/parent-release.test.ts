// What xnet changed on a MacvlanNet's parent is recorded and undone once no MacvlanNet uses it;
// what the host had before stays (the parent planner and the record file).
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostState } from '../../pkg/netlink/ip.js';
import type { Link } from '../../pkg/netlink/types.js';
import type { DockerNetwork } from '../../pkg/docker/types.js';
import { planMacvlan, parentChanges, parentsInUse, planParentRelease, type DesiredMacvlan } from '../../pkg/agent/planner/index.js';
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
    expect(planParentRelease({ records, inUse: new Set(), host: h })).toEqual({
      ops: [{ op: 'link.set.promisc', name: 'eth1', on: false }, { op: 'link.set.down', name: 'eth1' }],
      released: ['eth1'],
    });
  });

  it('leaves a parent another MacvlanNet uses (directly or as its VLAN base) as it is', () => {
    const h = host([link('eth1', 3, { promisc: true })]);
    expect(planParentRelease({ records, inUse: parentsInUse([{ parent: 'eth1' }], [], h), host: h })).toEqual({ ops: [], released: [] });
    expect(planParentRelease({ records, inUse: parentsInUse([{ parent: 'eth1', vlan: 7 }], [], h), host: h })).toEqual({ ops: [], released: [] });
  });

  it('leaves a parent whose Docker network still waits for its containers', () => {
    const h = host([link('eth1', 3, { promisc: true }), link('eth1.300', 9, { kind: 'vlan', parent: 'eth1', alias: 'xnet:vlan' })]);
    expect(planParentRelease({ records, inUse: parentsInUse([], [vlanNet('eth1.300')], h), host: h }).ops).toEqual([]);
  });

  it('leaves a parent (and an xnet VLAN link) a Docker network of the user\'s uses', () => {
    const h = host([link('eth1', 3, { promisc: true }), link('eth1.300', 9, { kind: 'vlan', parent: 'eth1', alias: 'xnet:vlan' })]);
    const users = [{ ...vlanNet('eth1.300'), name: 'mine', driver: 'ipvlan' as never, labels: {} }];
    const all = { eth1: { ifindex: 3, promisc: true, up: true } };
    expect(planParentRelease({ records: all, inUse: parentsInUse([], users, h), host: h }).ops).toEqual([]);
    expect(planParentRelease({ records: all, inUse: parentsInUse([], [], h), host: h }).ops.length).toBeGreaterThan(0);
  });

  it('keeps what the host had: a parent promiscuous or up before xnet (no record) stays so', () => {
    const h = host([link('eth1', 3, { promisc: true })]);
    expect(planParentRelease({ records: {}, inUse: new Set(), host: h })).toEqual({ ops: [], released: [] });
    // xnet set promiscuous mode only: the link stays up
    expect(planParentRelease({ records: { eth1: { ifindex: 3, promisc: true } }, inUse: new Set(), host: h }).ops)
      .toEqual([{ op: 'link.set.promisc', name: 'eth1', on: false }]);
  });

  it('never takes down a link the host relies on: the Node\'s interface, one with an address, a route or links on it', () => {
    const on = link('eth1', 3, { promisc: true });
    const off = [{ op: 'link.set.promisc', name: 'eth1', on: false }];
    expect(planParentRelease({ records, inUse: new Set(), host: host([on]), nodeInterface: 'eth1' }).ops).toEqual(off);
    expect(planParentRelease({ records, inUse: new Set(), host: host([on], [{ dev: 'eth1', cidr: '198.18.0.11/24' }]) }).ops).toEqual(off);
    expect(planParentRelease({ records, inUse: new Set(), host: host([on], [], [{ dst: '10.1.0.0/16', dev: 'eth1', proto: 'static' }]) }).ops).toEqual(off);
    expect(planParentRelease({ records, inUse: new Set(), host: host([on, link('mine', 8, { kind: 'macvlan', parent: 'eth1' })]) }).ops).toEqual(off);
  });

  it('takes down a veth end xnet brought up: its peer names it as its link but is no upper', () => {
    const h = host([link('xpa0', 3, { kind: 'veth', parent: 'xpa1', promisc: true }), link('xpa1', 4, { kind: 'veth', parent: 'xpa0', up: false })]);
    expect(planParentRelease({ records: { xpa0: { ifindex: 3, promisc: true, up: true } }, inUse: new Set(), host: h }).ops).toEqual([
      { op: 'link.set.promisc', name: 'xpa0', on: false }, { op: 'link.set.down', name: 'xpa0' },
    ]);
  });

  it('does nothing to a link someone already changed back, and drops the record', () => {
    const h = host([link('eth1', 3, { up: false })]);
    expect(planParentRelease({ records, inUse: new Set(), host: h })).toEqual({ ops: [], released: ['eth1'] });
  });

  it('deletes a VLAN link only when it carries xnet\'s mark and nothing uses it, then undoes its base', () => {
    const marked = link('eth1.300', 9, { kind: 'vlan', vlanId: 300, parent: 'eth1', alias: 'xnet:vlan' });
    const hosts = link('eth1.400', 10, { kind: 'vlan', vlanId: 400, parent: 'eth1' });
    const h = host([link('eth1', 3, { promisc: true }), marked, hosts]);
    // the host's own eth1.400 sits on eth1: eth1 stays up
    expect(planParentRelease({ records, inUse: new Set(), host: h })).toEqual({
      ops: [{ op: 'link.del', name: 'eth1.300' }, { op: 'link.set.promisc', name: 'eth1', on: false }],
      released: ['eth1.300', 'eth1'],
    });
    // in use by a remaining MacvlanNet: stays, and so does its base
    expect(planParentRelease({ records, inUse: parentsInUse([{ parent: 'eth1', vlan: 300 }], [], h), host: h }).ops).toEqual([]);
    // the base goes down once xnet's VLAN link (its only upper) is gone
    expect(planParentRelease({ records, inUse: new Set(), host: host([link('eth1', 3, { promisc: true }), marked]) }).ops).toEqual([
      { op: 'link.del', name: 'eth1.300' }, { op: 'link.set.promisc', name: 'eth1', on: false }, { op: 'link.set.down', name: 'eth1' },
    ]);
  });

  it('keeps a marked VLAN link the host put an address on', () => {
    const h = host([link('eth1', 3), link('eth1.300', 9, { kind: 'vlan', parent: 'eth1', alias: 'xnet:vlan' })], [{ dev: 'eth1.300', cidr: '10.3.0.1/24' }]);
    expect(planParentRelease({ records: {}, inUse: new Set(), host: h }).ops).toEqual([]);
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
