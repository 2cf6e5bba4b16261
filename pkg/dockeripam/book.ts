// The agent's side of dockerIPAM xnet: per MacvlanNet, the addresses the controller
// pre-claimed for this node (`pool`, from the MacvlanNet's status) and which of them this node
// gave to which container (`assigned`). Docker's requests are answered from here without any
// etcd round trip; every change is written to the local journal before Docker hears the
// answer, so a restarted agent (or one cut off from etcd) answers the same.
//
// Addresses stay with their containers across restarts (the trap of remote IPAM plugins):
// when Docker releases the address of a container it still has (stopped, or dockerd going
// down), the address is kept for that container until Docker removes it. A request without
// --ip right after such a release (a restart: stop, then start) gets the most recently kept
// address, and the agent moves a container that came back on another address home
// (../agent/reconcilers/docker-ipam.ts), so even a dockerd restarting many containers at once
// while etcd is unreachable ends with every container on its old address.
import { parseIPv4 } from '../ip/ipv4.js';
import { XnetIpamError } from './errors.js';
import type { Journal, JournalState, NetBook } from './journal.js';
import { HIGH_WATER, TARGET_FREE, type NodeIpamReport } from './report.js';

/** A kept address released this recently goes to the next request without --ip (a restart). */
export const RESTART_WINDOW_MS = 60_000;

export interface Assigned { ip: string; container?: string; name?: string; at: number; released?: number; lentFrom?: { container: string; name?: string } }

export type { NetBook };

export interface HolderLookup {
  /** who else holds ip on this MacvlanNet (another node's pool or an external claim), for messages */
  (mvn: string, ip: string): string | undefined;
}

const emptyBook = (): NetBook => ({ pool: [], assigned: {}, returned: [], external: [], requested: [], want: 0, probed: [] });

export class AddressBook {
  private readonly state: JournalState;
  private readonly waiters = new Map<string, Array<() => void>>();

  constructor(private readonly journal: Journal, private readonly onChange: (mvn: string) => void) {
    this.state = journal.load();
  }

  private book(mvn: string): NetBook {
    let b = this.state.nets[mvn];
    if (!b) this.state.nets[mvn] = b = emptyBook();
    return b;
  }

  networks(): string[] { return Object.keys(this.state.nets); }

  /** subnet and gateway as last seen; undefined for a MacvlanNet this node never served */
  net(mvn: string): { subnet: string; gateway?: string } | undefined {
    const b = this.state.nets[mvn];
    return b?.subnet ? { subnet: b.subnet, ...(b.gateway ? { gateway: b.gateway } : {}) } : undefined;
  }

  /** The controller's current list of this node's addresses (from MacvlanNet status). */
  setPool(mvn: string, addresses: string[], net: { subnet: string; gateway?: string }): void {
    const b = this.book(mvn);
    if (b.subnet !== net.subnet || b.gateway !== net.gateway) { b.subnet = net.subnet; b.gateway = net.gateway; this.journal.save(this.state); }
    const pool = new Set(addresses);
    const same = b.pool.length === pool.size && b.pool.every((a) => pool.has(a));
    // Returned/external entries are done once the controller has dropped them; requests once granted.
    const returned = b.returned.filter((a) => pool.has(a));
    const external = b.external.filter((a) => pool.has(a));
    const requested = b.requested.filter((a) => !pool.has(a));
    if (same && returned.length === b.returned.length && external.length === b.external.length && requested.length === b.requested.length) return;
    b.pool = [...pool].sort(byAddress);
    b.returned = returned; b.external = external; b.requested = requested;
    if (this.free(mvn).length) b.want = 0;
    b.probed = b.probed.filter((a) => pool.has(a));
    this.persist(mvn);
    for (const w of this.waiters.get(mvn)?.splice(0) ?? []) w();
  }

  /** Pool addresses nobody uses, not returned, not external, lowest first. */
  free(mvn: string): string[] {
    const b = this.book(mvn);
    const out = new Set([...b.returned, ...b.external]);
    return b.pool.filter((a) => !b.assigned[a] && !out.has(a));
  }

  assigned(mvn: string): Assigned[] {
    return Object.entries(this.book(mvn).assigned).map(([ip, a]) => ({ ip, ...a }));
  }

  /** Hands out ip (free, or kept for a container and asked for by --ip) to a container to be; journaled first. */
  assign(mvn: string, ip: string): void {
    this.book(mvn).assigned[ip] = { at: Date.now() };
    this.persist(mvn);
  }

  /** Addresses kept for stopped containers, released within `withinMs`, most recent first. */
  kept(mvn: string, withinMs = Infinity): string[] {
    const now = Date.now();
    return Object.entries(this.book(mvn).assigned)
      .filter(([, a]) => a.released !== undefined && now - a.released <= withinMs)
      .sort(([, x], [, y]) => y.released! - x.released!).map(([ip]) => ip);
  }

  isKept(mvn: string, ip: string): boolean { return this.book(mvn).assigned[ip]?.released !== undefined; }

  /** Gives an address kept for a container to a starting one (most likely that container, restarting). */
  lend(mvn: string, ip: string): void {
    const a = this.book(mvn).assigned[ip];
    if (!a?.container) return this.assign(mvn, ip);
    this.book(mvn).assigned[ip] = { at: Date.now(), lentFrom: { container: a.container, ...(a.name ? { name: a.name } : {}) } };
    this.persist(mvn);
  }

  /** The address kept for (or lent away from) a container, other than `except`. */
  homeOf(mvn: string, container: string, except?: string): string | undefined {
    for (const [ip, a] of Object.entries(this.book(mvn).assigned)) {
      if (ip === except) continue;
      if (a.released !== undefined && a.container === container) return ip;
      if (a.lentFrom?.container === container && a.container !== container) return ip;
    }
    return undefined;
  }

  /** The container an address is kept for gives up on it (it stays where it is now). */
  forgetHome(mvn: string, ip: string): void {
    const a = this.book(mvn).assigned[ip];
    if (!a) return;
    if (a.released !== undefined) return this.drop(mvn, ip);
    if (!a.lentFrom) return;
    delete a.lentFrom;
    this.persist(mvn);
  }

  /** The holder of ip on this node, for a refusal message. */
  holder(mvn: string, ip: string): string | undefined {
    const a = this.book(mvn).assigned[ip];
    const who = a?.name ? `container ${a.name}` : a?.container ? `container ${a.container.slice(0, 12)}` : 'a container being created';
    if (a) return a.released !== undefined ? `${who} (stopped; the address is kept for it)` : who;
    if (this.book(mvn).external.includes(ip)) return 'a host outside xnet (it answered an ARP probe)';
    return undefined;
  }

  /** Records which container an address went to (learnt from Docker afterwards). */
  identify(mvn: string, ip: string, container: string, name: string): void {
    const a = this.book(mvn).assigned[ip];
    if (!a || (a.container === container && a.name === name && a.released === undefined && a.lentFrom?.container !== container)) return;
    a.container = container; a.name = name;
    delete a.released;
    if (a.lentFrom?.container === container) delete a.lentFrom;
    this.persist(mvn);
  }

  /**
   * Docker released ip (ReleaseAddress, or the agent saw its container stopped): an address
   * lent away goes back to the container it is kept for; a container's own address is kept
   * for it, unless it has another one kept (then this one is free).
   */
  dockerReleased(mvn: string, ip: string): void {
    const a = this.book(mvn).assigned[ip];
    if (!a) return;
    if (a.lentFrom && a.lentFrom.container !== a.container) {
      this.book(mvn).assigned[ip] = { at: a.at, container: a.lentFrom.container, ...(a.lentFrom.name ? { name: a.lentFrom.name } : {}), released: Date.now() };
    } else if (a.container && !this.homeOf(mvn, a.container, ip)) {
      a.released = Date.now();
      delete a.lentFrom;
    } else return this.drop(mvn, ip);
    this.persist(mvn);
  }

  /** ip is free again (its container is gone, or it was never seen on one). */
  drop(mvn: string, ip: string): void {
    const b = this.book(mvn);
    if (!b.assigned[ip]) return;
    delete b.assigned[ip];
    // Idle: more free than needed goes back to the controller (never handed out again here).
    const free = this.free(mvn);
    if (free.length > HIGH_WATER) b.returned.push(...free.slice(TARGET_FREE));
    this.persist(mvn);
  }

  markExternal(mvn: string, ip: string): void {
    const b = this.book(mvn);
    if (b.assigned[ip] || b.external.includes(ip)) return;
    b.external.push(ip);
    this.persist(mvn);
  }

  isProbed(mvn: string, ip: string): boolean { return this.book(mvn).probed.includes(ip); }

  markProbed(mvn: string, ip: string): void {
    const b = this.book(mvn);
    if (!b.probed.includes(ip)) { b.probed.push(ip); this.journal.save(this.state); }
  }

  /** Asks the controller for a specific address (docker run --ip) or for more addresses. */
  ask(mvn: string, what: { ip?: string; more?: number }): void {
    const b = this.book(mvn);
    if (what.ip && !b.requested.includes(what.ip)) b.requested.push(what.ip);
    if (what.more) b.want = Math.max(b.want, what.more);
    this.persist(mvn);
  }

  /** Resolves when the pool changes next (or after ms). */
  poolChanged(mvn: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      const list = this.waiters.get(mvn) ?? [];
      list.push(() => { clearTimeout(t); resolve(); });
      this.waiters.set(mvn, list);
    });
  }

  forget(mvn: string): void {
    if (!this.state.nets[mvn]) return;
    delete this.state.nets[mvn];
    this.journal.save(this.state);
  }

  /** What goes into this node's MacvlanNet status for the controller. */
  report(mvn: string): NodeIpamReport {
    const b = this.book(mvn);
    return {
      assigned: Object.entries(b.assigned).sort(([x], [y]) => byAddress(x, y))
        .map(([ip, a]) => ({ ip, ...(a.container ? { container: a.container } : {}), ...(a.name ? { name: a.name } : {}) })),
      returned: [...b.returned].sort(byAddress), external: [...b.external].sort(byAddress),
      requested: [...b.requested].sort(byAddress), want: b.want,
    };
  }

  private persist(mvn: string): void {
    this.journal.save(this.state);
    this.onChange(mvn);
  }
}

export function byAddress(a: string, b: string): number {
  return parseIPv4(a) - parseIPv4(b);
}

export { XnetIpamError };
