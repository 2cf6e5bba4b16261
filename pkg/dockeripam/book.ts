// The agent's side of dockerIPAM xnet: per MacvlanNet, the addresses the controller
// pre-claimed for this node (`pool`, from the MacvlanNet's status) and which of them this node
// gave to which container (`assigned`). Docker's requests are answered from here without any
// etcd round trip; every change is written to the local journal before Docker hears the
// answer, so a restarted agent (or one cut off from etcd) answers the same.
import { parseIPv4 } from '../ip/ipv4.js';
import { XnetIpamError } from './errors.js';
import type { Journal, JournalState, NetBook } from './journal.js';
import { HIGH_WATER, TARGET_FREE, type NodeIpamReport } from './report.js';

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

  assigned(mvn: string): Array<{ ip: string; container?: string; name?: string; at: number }> {
    return Object.entries(this.book(mvn).assigned).map(([ip, a]) => ({ ip, ...a }));
  }

  /** Hands out ip (already checked free and probed) to a container to be; journaled first. */
  assign(mvn: string, ip: string): void {
    this.book(mvn).assigned[ip] = { at: Date.now() };
    this.persist(mvn);
  }

  /** The holder of ip on this node, for a refusal message. */
  holder(mvn: string, ip: string): string | undefined {
    const a = this.book(mvn).assigned[ip];
    if (a) return a.name ? `container ${a.name}` : a.container ? `container ${a.container.slice(0, 12)}` : 'a container being created';
    if (this.book(mvn).external.includes(ip)) return 'a host outside xnet (it answered an ARP probe)';
    return undefined;
  }

  /** Records which container an address went to (learnt from Docker afterwards). */
  identify(mvn: string, ip: string, container: string, name: string): void {
    const a = this.book(mvn).assigned[ip];
    if (!a || (a.container === container && a.name === name)) return;
    a.container = container; a.name = name;
    this.persist(mvn);
  }

  release(mvn: string, ip: string): void {
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
