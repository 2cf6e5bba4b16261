// xnet's routes are told from others by their protocol number, 76. `ip` prints a route's
// protocol, scope and table by name when /etc/iproute2 (rt_protos, rt_protos.d, rt_tables...)
// gives the number one: an admin who adds `76 xnet` there made every xnet route look foreign
// (RouteConflict for every moved peer, stale routes never deleted). Reads now ask `ip` for
// numbers (-Numeric) and the parser names the kernel's own (kernel, boot, main, link...) as the
// planners compare them, whatever the files say. `ip` here is a stand-in that prints as
// iproute2 6.1 does on such a host (names unless -N/-Numeric); nothing runs.
import { beforeEach, describe, expect, it, vi } from 'vitest';

/** The host's names: iproute2's built-in ones and an admin's rt_protos.d/xnet.conf naming 76. */
const NAMES: Record<'protocol' | 'scope' | 'table', Record<number, string>> = {
  protocol: { 2: 'kernel', 3: 'boot', 4: 'static', 16: 'dhcp', 76: 'xnet' },
  scope: { 0: 'global', 253: 'link', 254: 'host' },
  table: { 254: 'main', 255: 'local', 100: 'uplink' },
};

interface KernelRoute { dst: string; gateway?: string; dev: string; protocol: number; scope: number; table: number; prefsrc?: string }

const host: { routes: KernelRoute[]; rules: Array<{ priority: number; iif?: string; table: number }> } = { routes: [], rules: [] };

/** `ip -json [-details] [-N] ...route show | rule show | addr show`, one command or a -batch of them. */
function fakeIp(args: string[], input?: string): string {
  const numeric = args.includes('-N') || args.includes('-Numeric');
  const details = args.includes('-details');
  const say = (k: keyof typeof NAMES, n: number) => (numeric ? String(n) : NAMES[k][n] ?? String(n));
  const show = (cmd: string[]): unknown[] => {
    if (cmd.includes('rule')) return host.rules.map((r) => ({ priority: r.priority, ...(r.iif ? { iif: r.iif } : {}), table: say('table', r.table) }));
    if (!cmd.includes('route')) return [];
    // a table asked for by name or number is not printed; with `table all`, main only with -details
    const filtered = cmd.includes('table') && cmd[cmd.indexOf('table') + 1] !== 'all';
    return host.routes.map((r) => ({
      ...(details ? { type: 'unicast' } : {}), dst: r.dst, ...(r.gateway ? { gateway: r.gateway } : {}), dev: r.dev,
      ...(!filtered && (details || r.table !== 254) ? { table: say('table', r.table) } : {}),
      ...(details || r.protocol !== 3 ? { protocol: say('protocol', r.protocol) } : {}),
      ...(details || r.scope !== 0 ? { scope: say('scope', r.scope) } : {}),
      ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}), flags: [],
    }));
  };
  if (args.includes('-batch')) return (input ?? '').trim().split('\n').map((l) => JSON.stringify(show(l.split(' ')))).join('\n') + '\n';
  return JSON.stringify(show(args));
}

vi.mock('../../pkg/netlink/exec.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../pkg/netlink/exec.js')>()),
  run: vi.fn(async (_cmd: string, args: string[], input?: string) => fakeIp(args, input)),
}));

const { IpRunner } = await import('../../pkg/netlink/ip.js');
const { parseRoutes, parseDetailedRoutes } = await import('../../pkg/netlink/parse.js');
const { planRoutes } = await import('../../pkg/agent/planner/routes.js');
const { isXnetRoute } = await import('../../pkg/netlink/types.js');

const MAIN = 254;

describe('routes read from a host whose rt_protos names protocol 76', () => {
  beforeEach(() => {
    host.routes = [
      { dst: '10.0.0.0/24', dev: 'eth0', protocol: 2, scope: 253, table: MAIN, prefsrc: '10.0.0.11' },
      { dst: '10.76.2.0/24', gateway: '10.0.0.99', dev: 'eth0', protocol: 76, scope: 0, table: MAIN }, // the peer's old address
      { dst: '10.76.9.0/24', gateway: '10.0.0.19', dev: 'eth0', protocol: 76, scope: 0, table: MAIN }, // a peer gone
    ];
    host.rules = [{ priority: 100, iif: 'eth1', table: MAIN }];
  });

  it('are xnet\'s: a moved peer\'s route is replaced and a gone peer\'s deleted, by the pass\'s read and by a read of the table', async () => {
    const ip = new IpRunner({ kind: 'self' });
    const desired = [{ dst: '10.76.2.0/24', via: '10.0.0.12' }];
    const want = {
      ops: [
        { op: 'route.replace', dst: '10.76.2.0/24', via: '10.0.0.12' },
        { op: 'route.del', dst: '10.76.9.0/24', via: '10.0.0.19', dev: 'eth0', proto: '76' },
      ],
      problems: [],
    };
    expect.soft(planRoutes(desired, (await ip.state()).routes, isXnetRoute), 'plan from IpRunner.state()').toEqual(want);
    expect(planRoutes(desired, await ip.routes(), isXnetRoute), 'plan from IpRunner.routes()').toEqual(want);
  });

  it('keep the kernel\'s own names for what the planners compare (proto kernel, scope link, table main), however they are printed', async () => {
    const ip = new IpRunner({ kind: 'self' });
    const connected = { dst: '10.0.0.0/24', dev: 'eth0', proto: 'kernel', scope: 'link', prefsrc: '10.0.0.11' };
    expect((await ip.state()).routes[0]).toEqual(connected);
    expect((await ip.routes())[0]).toEqual(connected);
    expect((await ip.use()).rules).toEqual([{ family: 'inet', priority: 100, iif: 'eth1', action: 'lookup main' }, { family: 'inet6', priority: 100, iif: 'eth1', action: 'lookup main' }]);
  });
});

describe('parseRoutes of `ip -Numeric -json route show`', () => {
  it('names the kernel\'s protocols, scopes and tables; any other number stays one', () => {
    const raw = [
      { dst: '10.0.0.0/24', dev: 'eth0', protocol: '2', scope: '253', prefsrc: '10.0.0.11' },
      { dst: '127.0.0.1', dev: 'lo', table: '255', protocol: '2', scope: '254' },
      { dst: '10.76.2.0/24', gateway: '10.0.0.12', dev: 'eth0', protocol: '76' },
      { dst: '10.9.0.0/16', gateway: '10.0.0.1', dev: 'eth0', protocol: '16', table: '100' },
    ];
    expect(parseRoutes(raw)).toEqual([
      { dst: '10.0.0.0/24', dev: 'eth0', proto: 'kernel', scope: 'link', prefsrc: '10.0.0.11' },
      { dst: '127.0.0.1', dev: 'lo', table: 'local', proto: 'kernel', scope: 'host' },
      { dst: '10.76.2.0/24', via: '10.0.0.12', dev: 'eth0', proto: '76' },
      { dst: '10.9.0.0/16', via: '10.0.0.1', dev: 'eth0', proto: 'dhcp', table: '100' },
    ]);
    // -details prints the universe scope ("0") and the main table ("254") too: read as without them
    expect(parseDetailedRoutes([{ type: 'unicast', dst: 'default', gateway: '10.0.0.1', dev: 'eth0', table: '254', protocol: '3', scope: '0', flags: [] }]))
      .toEqual([{ dst: 'default', via: '10.0.0.1', dev: 'eth0', table: 'main', proto: 'boot' }]);
  });
});
