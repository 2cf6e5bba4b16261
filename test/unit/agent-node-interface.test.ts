// A Node's pinned spec.interface that its host lacks (a typo: enp0s5 for enp0s6): the agent's
// report says so (InterfaceOnHost), and which kernel events make it look again.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type Node } from '../../pkg/api/index.js';
import { nodeInterfaceEvent } from '../../pkg/agent/events.js';
import { detectUnderlay, nodeReport, readUnderlay, type Underlay } from '../../pkg/agent/node.js';
import type { IpRunner } from '../../pkg/netlink/ip.js';
import { parseMonitorLine } from '../../pkg/netlink/monitor.js';

const node = (spec: Node['spec']): Node => ({ apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'host-2', generation: 1 }, spec });
type Cond = { type: string; status: string; reason: string; message: string };
const conds = (s: Record<string, unknown>) => s.conditions as Cond[];
const cond = (s: Record<string, unknown>) => conds(s).find((c) => c.type === 'InterfaceOnHost');

describe('the Node report\'s InterfaceOnHost', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const base = { capabilities: {}, agentVersion: '0.1.0', routeProblems: [], now };
  const underlay = (pinned?: { name: string; ifindex?: number }) => ({ address: '198.18.0.12', interface: 'eth0', local: ['198.18.0.12'], ...(pinned ? { pinned } : {}) });

  it('is False, NotOnHost, naming the detected interface, when the host has no link of the pinned name; Ready stays True', () => {
    const typo = nodeReport(node({ interface: 'enp0s5' }), { ...base, underlay: underlay({ name: 'enp0s5' }) });
    expect(cond(typo)).toEqual({
      type: 'InterfaceOnHost', status: 'False', reason: 'NotOnHost', lastTransitionTime: now.toISOString(),
      message: 'spec.interface enp0s5 is not a link of this host: a MacvlanNet with no parent of its own for this node has no parent here (ParentMissing); fix spec.interface, or remove it to use the detected eth0',
    });
    expect(conds(typo).find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'AgentReady' });
    // the report still says which interface the node declares
    expect(typo.interface).toBe('enp0s5');
  });

  it('is True, OnHost, once the link is there; gone once nothing is pinned', () => {
    const typo = nodeReport(node({ interface: 'enp0s5' }), { ...base, underlay: underlay({ name: 'enp0s5' }) });
    const fixed = nodeReport(node({ interface: 'enp0s5' }), { ...base, underlay: underlay({ name: 'enp0s5', ifindex: 3 }), previous: typo.conditions as never });
    expect(cond(fixed)).toMatchObject({ status: 'True', reason: 'OnHost', message: 'enp0s5, the Node\'s spec.interface, is a link of this host' });
    expect(cond(nodeReport(node({}), { ...base, underlay: underlay(), previous: fixed.conditions as never }))).toBeUndefined();
  });

  it('is not said from a read of another name (the pin changed since the host was read)', () => {
    expect(cond(nodeReport(node({ interface: 'enp0s6' }), { ...base, underlay: underlay({ name: 'enp0s5' }) }))).toBeUndefined();
    // a dataplane that does not look (the scale benchmark's) says nothing either
    expect(cond(nodeReport(node({ interface: 'enp0s6' }), { ...base, underlay: underlay() }))).toBeUndefined();
  });
});

describe('nodeInterfaceEvent', () => {
  const ev = (line: string, pinned: string | undefined, known: number | undefined) => nodeInterfaceEvent(parseMonitorLine(line)!, pinned, known);

  it('a link of the pinned name made or deleted looks again', () => {
    expect(ev('[LINK]7: enp0s5: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN', 'enp0s5', undefined)).toBe(true);
    expect(ev('[LINK]7: enp0s5@enp0s6: <BROADCAST,MULTICAST> mtu 1500', 'enp0s5', undefined)).toBe(true);
    expect(ev('[LINK]Deleted 7: enp0s5: <BROADCAST,MULTICAST> mtu 1500', 'enp0s5', 7)).toBe(true);
    // made again under a new ifindex after a delete the monitor did not show
    expect(ev('[LINK]9: enp0s5: <BROADCAST,MULTICAST> mtu 1500', 'enp0s5', 7)).toBe(true);
  });

  it('the known link renamed away looks again (its event names only the new name)', () => {
    expect(ev('[LINK]7: lan0: <BROADCAST,MULTICAST,UP> mtu 1500', 'enp0s5', 7)).toBe(true);
  });

  it('a state change of the known link, other links, other objects, nothing pinned: nothing', () => {
    expect(ev('[LINK]7: enp0s5: <BROADCAST,MULTICAST,PROMISC,UP,LOWER_UP> mtu 1500', 'enp0s5', 7)).toBe(false);
    expect(ev('[LINK]12: veth1234@if11: <BROADCAST> mtu 1500', 'enp0s5', undefined)).toBe(false);
    expect(ev('[ADDR]7: enp0s5    inet 10.0.0.1/24 scope global', 'enp0s5', undefined)).toBe(false);
    expect(ev('[LINK]7: enp0s5: <BROADCAST,MULTICAST> mtu 1500', undefined, undefined)).toBe(false);
  });
});

describe('a spec.interface pinned as an altname of a link (systemd gives ens3 the altname enp0s3)', () => {
  // `ip link show dev enp0s3` finds the link by its altname; `ip monitor` names it ens3
  const ip = {
    json: async (args: string[]) => (args.join(' ') === 'link show dev enp0s3'
      ? [{ ifindex: 2, ifname: 'ens3', flags: ['UP'], mtu: 1500, address: '52:54:00:12:34:56', altnames: ['enp0s3'] }]
      : []),
    addrs: async () => [],
  } as unknown as IpRunner;

  it('is not on the host as a parent (macvlans find a parent by its name: ParentMissing), and names the link', async () => {
    const u = await detectUnderlay(ip, 'enp0s3');
    expect(cond(nodeReport(node({ interface: 'enp0s3' }), { capabilities: {}, agentVersion: '0.1.0', routeProblems: [], underlay: u }))).toMatchObject({
      status: 'False', reason: 'NotOnHost',
      message: 'spec.interface enp0s3 is an altname of ens3, not a link\'s name: a MacvlanNet with no parent of its own for this node has no parent here (ParentMissing); set spec.interface to ens3',
    });
  });

  it('a state change of that link (a macvlan port at a container start) does not look again', async () => {
    const u = await detectUnderlay(ip, 'enp0s3');
    const ev = (line: string) => nodeInterfaceEvent(parseMonitorLine(line)!, 'enp0s3', u.pinned?.ifindex, u.pinned?.ifname);
    expect(ev('[LINK]2: ens3: <BROADCAST,MULTICAST,PROMISC,UP,LOWER_UP> mtu 1500')).toBe(false);
    // renamed (the altname goes with it) or deleted: looked at again
    expect(ev('[LINK]2: lan0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500')).toBe(true);
    expect(ev('[LINK]Deleted 2: ens3: <BROADCAST,MULTICAST> mtu 1500')).toBe(true);
  });
});

describe('the agent\'s log line when the pinned interface changes', () => {
  const base = { address: '198.18.0.12', interface: 'eth0', local: ['198.18.0.12'] };
  const read = async (last: Underlay, now: Underlay) => {
    const lines: string[] = [];
    const log = { info: (m: string, f?: object) => lines.push(`${m} ${JSON.stringify(f ?? {})}`), warn: () => undefined } as never;
    await readUnderlay({ underlay: async () => now }, last, log, 'enp0s3');
    return lines;
  };
  it('says which: gone, found only by an altname (naming the link), a link again; nothing while unchanged', async () => {
    const link = { ...base, pinned: { name: 'enp0s3', ifindex: 2 } };
    const alt = { ...base, pinned: { name: 'enp0s3', ifindex: 2, ifname: 'ens3' } };
    const gone = { ...base, pinned: { name: 'enp0s3' } };
    expect(await read(link, gone)).toEqual(['the Node\'s spec.interface is no longer a link of this host {"interface":"enp0s3"}']);
    expect(await read(gone, alt)).toEqual(['the Node\'s spec.interface names a link of this host only by an altname {"interface":"enp0s3","link":"ens3"}']);
    expect(await read(alt, link)).toEqual(['the Node\'s spec.interface is a link of this host now {"interface":"enp0s3"}']);
    expect(await read(alt, alt)).toEqual([]);
  });
});
