// A NIC that is the container's default route (spec.defaultRoute) keeps the container's own
// default route (Docker's) as a fallback at a high metric, and removes only xnet's own default
// route through it when it is no longer wanted: the container always has a default route.
// The ops are applied to a small model of the kernel's main table (one route per destination
// and metric, as `ip route replace` keys them) to check each step and that a plan is done once.
import { describe, expect, it } from 'vitest';
import type { Link, Route } from '../../pkg/netlink/types.js';
import { parseRoutes } from '../../pkg/netlink/parse.js';
import {
  FALLBACK_DEFAULT_METRIC, ipLine, nicAlias, nicDifferences, planDefaultRoute, planNic, vethHostName,
  type ContainerState, type DesiredNic, type IpOp, type Op,
} from '../../pkg/agent/planner/index.js';

const NS = { path: '/proc/1/fd/42', pid: 4242 };
const link = (name: string, ifindex: number, extra: Partial<Link> = {}): Link => ({ name, ifindex, mac: '02:00:00:00:00:0' + ifindex, mtu: 1500, up: true, promisc: false, ...extra });
const nic: DesiredNic = { name: 'web-eth1', ifName: 'eth1', cidr: '10.76.1.84/24', gateway: '10.76.1.1', defaultRoute: true, netns: NS, attach: { kind: 'veth', bridge: 'br01', hostSubnet: 'hs1' } };
const notDefault: DesiredNic = { ...nic, defaultRoute: false };

/** Docker's default route in a container, as `ip -json route show` prints it (proto boot, no metric). */
const DOCKER: Route = { dst: 'default', via: '172.17.0.1', dev: 'eth0', proto: 'boot' };
const FALLBACK: Route = { dst: 'default', via: '172.17.0.1', dev: 'eth0', proto: '76', metric: FALLBACK_DEFAULT_METRIC };
const NICS: Route = { dst: 'default', via: '10.76.1.1', dev: 'eth1', proto: '76' };
const CONNECTED: Route = { dst: '172.17.0.0/16', dev: 'eth0', proto: 'kernel', scope: 'link', prefsrc: '172.17.0.2' };

const metricOf = (r: Route) => r.metric ?? 0;

/** The main table after one op, as the kernel does it: replace keys on destination and metric; del matches via, dev and proto. */
function apply(routes: Route[], o: IpOp): Route[] {
  if (o.op === 'route.default' || o.op === 'route.replace') {
    const r: Route = { dst: o.op === 'route.default' ? 'default' : o.dst, via: o.via, dev: o.dev!, proto: '76', ...(o.op === 'route.replace' && o.metric ? { metric: o.metric } : {}) };
    const at = routes.findIndex((x) => x.dst === r.dst && metricOf(x) === metricOf(r));
    return at < 0 ? [...routes, r] : routes.map((x, i) => (i === at ? r : x));
  }
  if (o.op === 'route.del') {
    const at = routes.findIndex((x) => x.dst === o.dst && (!o.via || x.via === o.via) && (!o.dev || x.dev === o.dev) && x.proto === o.proto);
    if (at < 0) throw new Error(`RTNETLINK answers: No such process (${ipLine(o).join(' ')})`);
    return routes.filter((_, i) => i !== at);
  }
  return routes;
}

/** Applies the ops one by one; `each` sees the table after every step. */
function run(routes: Route[], ops: Op[], each: (r: Route[]) => void = () => undefined): Route[] {
  let now = routes;
  for (const o of ops) {
    now = apply(now, o as IpOp);
    each(now);
  }
  return now;
}

/** The default route the kernel uses: the one with the lowest metric. */
const used = (routes: Route[]) => routes.filter((r) => r.dst === 'default').sort((a, b) => metricOf(a) - metricOf(b))[0];
const hasDefault = (routes: Route[]) => expect(used(routes), 'the container has a default route').toBeDefined();

describe('a NIC becoming the container\'s default route', () => {
  it('keeps Docker\'s route as the fallback first, then takes metric 0', () => {
    const p = planDefaultRoute(nic, [DOCKER, CONNECTED]);
    expect(p).toEqual({ ops: [
      { op: 'route.replace', dst: 'default', via: '172.17.0.1', dev: 'eth0', metric: FALLBACK_DEFAULT_METRIC, netns: NS },
      { op: 'route.default', via: '10.76.1.1', dev: 'eth1', netns: NS },
    ] });
    expect(p.ops.map(ipLine)).toEqual([
      ['route', 'replace', 'default', 'via', '172.17.0.1', 'dev', 'eth0', 'metric', '10076', 'proto', '76'],
      ['route', 'replace', 'default', 'via', '10.76.1.1', 'dev', 'eth1', 'proto', '76'],
    ]);
    const after = run([DOCKER, CONNECTED], p.ops, hasDefault);
    expect(used(after)).toEqual(NICS);
    expect(after.filter((r) => r.dst === 'default')).toEqual([NICS, FALLBACK]);
  });

  it('plans nothing once in place (an agent restarted plans the same), and both steps again after the first alone', () => {
    expect(planDefaultRoute(nic, [NICS, FALLBACK, CONNECTED]).ops).toEqual([]);
    expect(nicDifferences(nic, { links: [link('eth1', 5, { alias: nicAlias(nic.name) })], addrs: [{ dev: 'eth1', cidr: nic.cidr }], routes: [NICS, FALLBACK] })).toEqual([]);
    // a batch (or the agent) stopped after the fallback: Docker's route is still at metric 0
    const half = [DOCKER, FALLBACK];
    const again = planDefaultRoute(nic, half).ops;
    expect(again.map((o) => o.op)).toEqual(['route.replace', 'route.default']);
    expect(run(half, again, hasDefault).filter((r) => r.dst === 'default')).toEqual([NICS, FALLBACK]);
  });

  it('moves only its own route when the gateway changes, and adopts a matching route someone else made', () => {
    const old = { ...NICS, via: '10.76.1.254' };
    expect(planDefaultRoute(nic, [old, FALLBACK]).ops).toEqual([{ op: 'route.default', via: '10.76.1.1', dev: 'eth1', netns: NS }]);
    expect(planDefaultRoute(nic, [{ ...NICS, proto: 'static' }, DOCKER]).ops).toEqual([]);
  });

  it('takes metric 0 alone in a container that had no default route', () => {
    expect(planDefaultRoute(nic, [CONNECTED]).ops).toEqual([{ op: 'route.default', via: '10.76.1.1', dev: 'eth1', netns: NS }]);
  });

  it('in a restarted container (Docker\'s fresh route), the new NIC keeps it aside after the NIC is up', () => {
    const host = { links: [link('br01', 3, { kind: 'bridge', alias: 'xnet:hostsubnet:hs1' })], addrs: [], routes: [] };
    const fresh: ContainerState = { links: [link('lo', 1), link('eth0', 9, { kind: 'veth' })], addrs: [], routes: [DOCKER, CONNECTED] };
    const ops = planNic(nic, host, fresh).ops.map((o) => o.op);
    expect(ops.slice(ops.indexOf('link.set.up', ops.indexOf('link.rename')))).toEqual(['link.set.up', 'route.replace', 'route.default', 'sysctl.set']);
  });

  it('changes nothing when the container\'s own route cannot be kept (multipath, or a foreign route at the fallback metric)', () => {
    const host = { links: [link('br01', 3, { kind: 'bridge', alias: 'xnet:hostsubnet:hs1' })], addrs: [], routes: [] };
    const multipath: Route = { dst: 'default', proto: 'boot' };
    const squatter: Route = { ...DOCKER, via: '172.17.0.9', metric: FALLBACK_DEFAULT_METRIC };
    for (const routes of [[multipath], [DOCKER, squatter]]) {
      const p = planNic(nic, host, { links: [], addrs: [], routes });
      expect(p.ops).toEqual([]);
      expect(p.problems.map((x) => x.reason)).toEqual(['DefaultRouteConflict']);
    }
  });
});

describe('a NIC that is no longer the container\'s default route', () => {
  const inPlace: Route[] = [NICS, FALLBACK, CONNECTED];

  it('defaultRoute false: deletes xnet\'s route through it, and the fallback carries the traffic', () => {
    const p = planDefaultRoute(notDefault, inPlace);
    expect(p.ops).toEqual([{ op: 'route.del', dst: 'default', via: '10.76.1.1', dev: 'eth1', proto: '76', netns: NS }]);
    expect(ipLine(p.ops[0])).toEqual(['route', 'del', 'default', 'via', '10.76.1.1', 'dev', 'eth1', 'proto', '76']);
    const after = run(inPlace, p.ops, hasDefault);
    expect(used(after)).toEqual(FALLBACK);
    expect(planDefaultRoute(notDefault, after).ops).toEqual([]);
    expect(nicDifferences(notDefault, { links: [link('eth1', 5, { alias: nicAlias(nic.name) })], addrs: [{ dev: 'eth1', cidr: nic.cidr }], routes: after })).toEqual([]);
  });

  it('names xnet\'s route left through it as a difference (Ready waits for it to go)', () => {
    const c: ContainerState = { links: [link('eth1', 5, { alias: nicAlias(nic.name) })], addrs: [{ dev: 'eth1', cidr: nic.cidr }], routes: inPlace };
    expect(nicDifferences(notDefault, c)).toEqual(['xnet\'s default route default via 10.76.1.1 dev eth1 proto 76 is still there, though eth1 is not to be the default route']);
    expect(nicDifferences({ ...nic, gateway: undefined }, c)).toHaveLength(1);
  });

  it('deleted: its route goes with its link and the fallback is left, the container\'s only default route', () => {
    const linkGone = inPlace.filter((r) => r.dev !== 'eth1');
    expect(used(linkGone)).toEqual(FALLBACK);
    // a NIC made again later, default or not, keeps the fallback as it is
    expect(planDefaultRoute(nic, linkGone).ops).toEqual([{ op: 'route.default', via: '10.76.1.1', dev: 'eth1', netns: NS }]);
    expect(planDefaultRoute(notDefault, linkGone).ops).toEqual([]);
  });

  it('leaves another NIC\'s default route, Docker\'s own route and anyone else\'s default route through it alone', () => {
    const other: Route = { ...NICS, dev: 'eth2', via: '10.76.2.1' };
    expect(planDefaultRoute(notDefault, [other, FALLBACK]).ops).toEqual([]);
    expect(planDefaultRoute(notDefault, [DOCKER]).ops).toEqual([]);
    expect(planDefaultRoute(notDefault, [{ ...NICS, proto: 'static' }, FALLBACK]).ops).toEqual([]);
  });

  it('is planned in the converge of a NIC already in place', () => {
    const hv = vethHostName(nic.name);
    const host = { links: [link('br01', 3, { kind: 'bridge', alias: 'xnet:hostsubnet:hs1' }), link(hv, 20, { kind: 'veth', alias: nicAlias(nic.name), master: 'br01', linkIndex: 5 })], addrs: [], routes: [] };
    const c: ContainerState = { links: [link('eth1', 5, { kind: 'veth', alias: nicAlias(nic.name) })], addrs: [{ dev: 'eth1', cidr: nic.cidr }], routes: inPlace };
    expect(planNic(notDefault, host, c)).toEqual({ ops: [{ op: 'route.del', dst: 'default', via: '10.76.1.1', dev: 'eth1', proto: '76', netns: NS }], problems: [] });
    expect(planNic(nic, host, c)).toEqual({ ops: [], problems: [] });
  });
});

it('reads a route\'s metric from ip -json (none printed for metric 0)', () => {
  const raw = [{ dst: 'default', gateway: '10.76.1.1', dev: 'eth1', protocol: '76', flags: [] }, { dst: 'default', gateway: '172.17.0.1', dev: 'eth0', protocol: '76', metric: 10076, flags: [] }];
  expect(parseRoutes(raw)).toEqual([NICS, FALLBACK]);
});

describe('two NICs of one container that both set defaultRoute', () => {
  it('the second does not take the first one\'s route over (they replaced each other for ever): DefaultRouteConflict, nothing changed', () => {
    const second: DesiredNic = { ...nic, name: 'web-eth2', ifName: 'eth2', gateway: '192.168.231.1' };
    const p = planDefaultRoute(second, [FALLBACK, NICS, CONNECTED]);
    expect(p.ops).toEqual([]);
    expect(p.problem).toEqual({ reason: 'DefaultRouteConflict', message: expect.stringContaining('default via 10.76.1.1 dev eth1 proto 76') });
    // its own route with another gateway (the network's gateway edited) is still replaced
    expect(planDefaultRoute(nic, [FALLBACK, { ...NICS, via: '10.76.1.254' }]).ops).toEqual([{ op: 'route.default', via: '10.76.1.1', dev: 'eth1', netns: NS }]);
  });
});

describe('a default-route NIC made again (renamed, moved to another network)', () => {
  it('takes no route through its own old link for another NIC\'s: the old link and its route go, the new one is the default route', () => {
    const hv = vethHostName('web-eth1');
    const host = { links: [link('br01', 3, { kind: 'bridge', alias: 'xnet:hostsubnet:hs1' }), link(hv, 20, { kind: 'veth', alias: nicAlias('web-eth1'), master: 'br01', linkIndex: 11, linkNetnsId: 0 })], addrs: [], routes: [] };
    const c: ContainerState = {
      links: [link('eth0', 9, { kind: 'veth' }), link('eth1', 11, { kind: 'veth', alias: nicAlias('web-eth1'), linkIndex: 20, linkNetnsId: 0 })],
      addrs: [{ dev: 'eth1', cidr: '10.76.1.84/24' }], routes: [FALLBACK, NICS, CONNECTED],
    };
    const p = planNic({ ...nic, ifName: 'eth5' }, host, c);
    expect(p.problems).toEqual([]);
    expect(p.ops).toContainEqual({ op: 'route.default', via: '10.76.1.1', dev: 'eth5', netns: NS });
  });
});
