// `ip` in one namespace: JSON reads, batched writes. Never one process per change.
import { run, CommandError, type RunOptions } from './exec.js';
import { ipArgv, type NetTarget, describeTarget } from './target.js';
import { batchJson, parseAddrs, parseDetailedRoutes, parseLinks, parseRouteHops, parseRoutes, parseRules } from './parse.js';
import type { Addr, Link, Route, Rule } from './types.js';
import { DataplaneError } from '../errors.js';

/** One line of an `ip -batch` file, as arguments (no quoting needed: names are validated). */
export type IpLine = string[];

/**
 * ip(8) splits batch input into commands at newlines and words at blanks, strips quotes and
 * drops everything after "#". An argument holding any of these would change the command or
 * add another one, so it is refused here whatever validated (or failed to validate) it upstream.
 */
const UNSAFE_ARG = /[\s\x00-\x1f\x7f"'#]/;

export class IpBatchArgumentError extends DataplaneError {
  constructor(
    /** the refused line and the 0-based index of the refused argument in it */
    readonly line: IpLine,
    readonly index: number,
  ) {
    super('UnsafeArgument', `refusing ip batch line ${JSON.stringify(line)}: argument ${index + 1} ${JSON.stringify(line[index])} ${line[index] === '' ? 'is empty' : 'contains a newline, NUL, blank, quote or "#"'}, which would change or add ip commands`);
  }
}

/** The stdin of `ip -batch -`; throws IpBatchArgumentError before anything runs. */
export function batchInput(lines: IpLine[]): string {
  for (const line of lines) {
    const i = line.findIndex((a) => typeof a !== 'string' || a === '' || UNSAFE_ARG.test(a));
    if (i >= 0) throw new IpBatchArgumentError(line, i);
  }
  return lines.map((l) => l.join(' ')).join('\n') + '\n';
}

export class IpBatchError extends DataplaneError {
  declare readonly reason: 'IpCommandFailed' | 'NamespaceGone' | 'CommandTimedOut';
  constructor(
    reason: 'IpCommandFailed' | 'NamespaceGone' | 'CommandTimedOut',
    readonly target: NetTarget,
    /** the failing line, when ip said which */
    readonly line: IpLine | undefined,
    readonly stderr: string,
  ) {
    super(reason, `ip in ${describeTarget(target)}${line ? `: "${line.join(' ')}"` : ''}: ${stderr.trim().split('\n')[0]}`);
  }

  /** 0-based indexes of every line ip reported as failed */
  failedLines: number[] = [];
}

export interface HostState {
  links: Link[];
  addrs: Addr[];
  routes: Route[];
}

/**
 * What ties the host to its links beyond HostState's view (IPv4 addresses, the IPv4 main
 * table): addresses of every family, routes of every table and policy rules, IPv4 and IPv6.
 * Read only before xnet takes a parent down or deletes a VLAN link it made, which is rare.
 */
export interface HostUse {
  addrs: Addr[];
  /** a multipath route once per next hop */
  routes: Route[];
  /** the `ip rule`s (both families) that name a link as `iif` or `oif` */
  rules: Rule[];
}

/**
 * Whether `ip` failed because a namespace it was to act on is gone: nsenter could not enter a
 * PID's or file's namespace, or the failed line moves a link into the namespace of a PID that
 * has exited (the kernel's ESRCH). Not that ESRCH on any other line: `route del` of a route
 * already gone says "RTNETLINK answers: No such process" too, and was reported as a
 * container's namespace that went away, from the host's own namespace.
 */
export function namespaceGone(stderr: string, line: IpLine | undefined): boolean {
  if (/ns\/net: No such file|Cannot open network namespace|reassociate/i.test(stderr)) return true;
  const esrch = stderr.split('\n').filter((l) => /No such process/i.test(l));
  if (!esrch.length) return false;
  const fromKernel = esrch.every((l) => /^\s*RTNETLINK answers:/.test(l));
  return !fromKernel || (line?.includes('netns') ?? false);
}

/**
 * The options of every read: JSON, and numbers for a route's protocol, scope and table, not the
 * names /etc/iproute2 gives them (an admin's `76 xnet` in rt_protos hid xnet's routes; ./rt-names.ts).
 */
const READ = ['-json', '-Numeric'];

/** The bound of each read of HostUse: a release can wait for the next pass, a worker should not. */
export const HOST_USE_TIMEOUT_MS = 10_000;

export class IpRunner {
  constructor(readonly target: NetTarget) {}

  async json(args: string[], opts: RunOptions = {}): Promise<unknown> {
    const [cmd, argv] = ipArgv(this.target, [...READ, ...args]);
    const out = await this.wrap(() => run(cmd, argv, undefined, opts), undefined);
    return out.trim() ? JSON.parse(out) : [];
  }

  /**
   * Runs all lines in one `ip -batch -`. ip stops at the first failing line, unless `force`:
   * then it runs every line and the error names all that failed (independent changes such as
   * routes to many peers, where one bad next hop must not hold back the rest).
   */
  async batch(lines: IpLine[], opts: { force?: boolean } = {}): Promise<void> {
    if (lines.length === 0) return;
    const input = batchInput(lines);
    const [cmd, argv] = ipArgv(this.target, [...(opts.force ? ['-force'] : []), '-batch', '-']);
    await this.wrap(() => run(cmd, argv, input), lines);
  }

  async links(): Promise<Link[]> {
    return parseLinks(await this.json(['-details', 'link', 'show']));
  }

  async addrs(): Promise<Addr[]> {
    return parseAddrs(await this.json(['-4', 'addr', 'show']));
  }

  async routes(table = 'main'): Promise<Route[]> {
    return parseRoutes(await this.json(['-4', 'route', 'show', 'table', table]));
  }

  /**
   * Links and IPv4 addresses from one `ip -details addr show`: each entry carries the link's
   * details, as `link show` gives them, and its addresses. One process instead of two: each `ip`
   * costs the agent a fork, and most passes read both.
   */
  async linksAndAddrs(): Promise<{ links: Link[]; addrs: Addr[] }> {
    const raw = await this.json(['-details', 'addr', 'show']);
    return { links: parseLinks(raw), addrs: parseAddrs(raw) };
  }

  /**
   * Links (with details), IPv4 addresses and the IPv4 main table from one `ip -batch`: each
   * `ip` costs a fork, and a pass reads all three. The batch's options are global, so the routes
   * come with `-details` too; parseDetailedRoutes reads them as without it.
   */
  async state(): Promise<HostState> {
    const lines: IpLine[] = [['addr', 'show'], ['route', 'show', 'table', 'main']];
    const [cmd, argv] = ipArgv(this.target, [...READ, '-details', '-batch', '-']);
    const out = await this.wrap(() => run(cmd, argv, batchInput(lines)), lines);
    const [addrShow, routeShow] = batchJson(out, lines.length, describeTarget(this.target));
    return { links: parseLinks(addrShow), addrs: parseAddrs(addrShow), routes: parseDetailedRoutes(routeShow) };
  }

  /**
   * Five reads (`addr show`, `-4`/`-6 route show table all`, `-4`/`-6 rule show`), each bounded
   * by HOST_USE_TIMEOUT_MS.
   */
  async use(): Promise<HostUse> {
    const t = { timeoutMs: HOST_USE_TIMEOUT_MS };
    const [addrs, v4, v6, rules4, rules6] = await Promise.all([
      this.json(['addr', 'show'], t), this.json(['-4', 'route', 'show', 'table', 'all'], t), this.json(['-6', 'route', 'show', 'table', 'all'], t),
      this.json(['-4', 'rule', 'show'], t), this.json(['-6', 'rule', 'show'], t),
    ]);
    return {
      addrs: parseAddrs(addrs, ['inet', 'inet6']),
      routes: [...parseRouteHops(v4), ...parseRouteHops(v6)],
      rules: [...parseRules(rules4, 'inet'), ...parseRules(rules6, 'inet6')],
    };
  }

  private async wrap<T>(f: () => Promise<T>, lines: IpLine[] | undefined): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      const failed = [...e.stderr.matchAll(/Command failed -:(\d+)/g)].map((m) => Number(m[1]) - 1);
      const line = failed.length && lines ? lines[failed[0]] : undefined;
      const reason = e.reason === 'CommandTimedOut' ? 'CommandTimedOut' : namespaceGone(e.stderr, line) ? 'NamespaceGone' : 'IpCommandFailed';
      const err = new IpBatchError(reason, this.target, line, e.stderr || e.message);
      err.failedLines = failed;
      throw err;
    }
  }
}
