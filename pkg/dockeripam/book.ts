// The agent's side of dockerIPAM xnet: per MacvlanNet, the addresses the controller
// pre-claimed for this node (`pool`, from the MacvlanNet's status) and which of them this node
// gave to which container (`assigned`). Docker's requests are answered from here without any
// etcd round trip; every change is written to the local journal before Docker hears the
// answer, so a restarted agent (or one cut off from etcd) answers the same.
//
// Addresses stay with their containers across restarts (the trap of remote IPAM plugins):
// when Docker releases the address of a container it still has (stopped, or dockerd going
// down), the address is kept for it until it is removed or leaves the network. Docker never says
// which container a request is for, so a request without --ip is matched to a kept address
// by which container Docker is starting (guess(), ./kept-owner.ts): a new container never
// gets a kept address, a stopped one gets its own however long ago; while a dockerd restores
// its containers, only addresses of containers its restart policy starts again, never one a
// container asks for by --ip. Several restarting at once may swap addresses among
// themselves; the agent then moves each home (../agent/reconcilers/docker-ipam.ts).
import { byAddress } from '../ip/ipv4.js';
export { XnetIpamError } from './errors.js';
import { defined, type Journal, type JournalState, type NetBook } from './journal.js';
import { bookReport, surplusOf, type NodeIpamReport } from './report.js';
import { AwaitedAddresses, PoolChanges, Refusals } from './requests.js';
import { PoolTurns } from './pool-turns.js';
import { guessKept } from './guess.js';
import { givenBack } from './give-back.js';
import { ExternalMarks } from './external-marks.js';
import { EntryRevisions } from './entry-revisions.js';

/** An entry as read, with its revision (see AddressBook.unchanged). */
export type Assigned = { ip: string; rev: number } & NetBook['assigned'][string];

/** What Docker says of a container that matters for guessing (see ./journal.ts). */
export interface ContainerFacts { restarts: boolean; pinned: boolean }

export type { NetBook };

export interface HolderLookup {
  /** who else holds ip on this MacvlanNet (another node's pool or an external claim), for messages */
  (mvn: string, ip: string): string | undefined;
}

const emptyBook = (): NetBook => ({ pool: [], assigned: {}, returned: [], external: [], requested: [], want: 0, probed: [] });

export class AddressBook {
  private readonly state: JournalState;
  private readonly changes = new PoolChanges();
  /** each entry's revision (./entry-revisions.ts; see unchanged) */
  private readonly revs = new EntryRevisions();

  constructor(private readonly journal: Journal, private readonly onChange: (mvn: string) => void, readonly marks = new ExternalMarks()) {
    this.state = journal.load();
    // `want` counts requests waiting; none outlives its process (a journal's kept the node starving).
    // Nor does what an ARP probe saw: while the agent was down its Node may have gone and another
    // node's container taken an address the pool holds again now (./pool-turns.ts).
    for (const b of Object.values(this.state.nets)) { b.want = 0; b.probed = []; }
  }

  /** mvn's entry to read: one not served (never, or forgotten since) reads empty, and a probe or request in flight makes it not again. */
  private book(mvn: string): NetBook { return this.state.nets[mvn] ?? emptyBook(); }

  /** mvn's entry to write, made if new: only where the MacvlanNet is known to be on this node. */
  private served(mvn: string): NetBook { return (this.state.nets[mvn] ??= emptyBook()); }

  networks(): string[] { return Object.keys(this.state.nets); }

  /** subnet and gateway as last seen; undefined for a MacvlanNet this node never served */
  net(mvn: string): { subnet: string; gateway?: string } | undefined {
    const b = this.state.nets[mvn];
    return b?.subnet ? { subnet: b.subnet, ...(b.gateway ? { gateway: b.gateway } : {}) } : undefined;
  }

  /** The interface the MacvlanNet's macvlans hang off here, as last seen (journalled: probes at start look there). */
  parentOf(mvn: string): string | undefined { return this.state.nets[mvn]?.parent; }

  setParent(mvn: string, dev: string): void { if (this.book(mvn).parent !== dev) { this.served(mvn).parent = dev; this.save(); } }

  /**
   * The most free addresses to hold per MacvlanNet, as the controller last said
   * (status.nodes[].maxFree, while another node of a small pool has none): in memory, as the
   * status it comes from is read again at every start.
   */
  private readonly limits = new Map<string, number>();

  /**
   * The controller's current list of this node's addresses (from MacvlanNet status), its limit
   * on how many of them to hold free and those it asks back by name (another node's --ip wants
   * them): what is free of those is given back at once (./give-back.ts).
   */
  setPool(mvn: string, addresses: string[], net: { subnet: string; gateway?: string }, limit?: number, refused?: ReadonlyMap<string, string>, giveBack?: readonly string[]): void {
    const b = this.served(mvn);
    if (b.subnet !== net.subnet || b.gateway !== net.gateway) { b.subnet = net.subnet; b.gateway = net.gateway; this.save(); }
    if (limit === undefined) this.limits.delete(mvn); else this.limits.set(mvn, limit);
    if (this.refusals.set(mvn, refused)) this.wake(mvn);
    const pool = new Set(addresses);
    const same = b.pool.length === pool.size && b.pool.every((a) => pool.has(a));
    // Returned/external entries are done once the controller has dropped them; requests once granted.
    const returned = b.returned.filter((a) => pool.has(a));
    const external = b.external.filter((a) => pool.has(a));
    const requested = b.requested.filter((a) => !pool.has(a));
    const changed = !same || returned.length !== b.returned.length || external.length !== b.external.length || requested.length !== b.requested.length;
    // never an address a --ip request waits for: granted for it, it is not surplus
    const out = new Set([...returned, ...external, ...this.awaited.of(mvn)]);
    const surplus = givenBack([...pool].sort(byAddress).filter((a) => !b.assigned[a] && !out.has(a)), limit, giveBack);
    if (!changed && !surplus.length) return;
    const had = new Set(b.pool);
    for (const a of pool) if (!had.has(a)) this.turns.began(mvn, a);
    b.pool = [...pool].sort(byAddress);
    b.returned = [...returned, ...surplus]; b.external = external; b.requested = requested;
    if (this.free(mvn).length) b.want = 0;
    b.probed = b.probed.filter((a) => pool.has(a));
    this.persist(mvn);
    this.wake(mvn);
  }

  private wake(mvn: string): void { this.changes.wake(mvn); }

  /** The controller's refusals of this node's --ip requests (status.nodes[].refusedRequests). */
  private readonly refusals = new Refusals();

  /** Why the controller will not grant `ip` to this node (docker run --ip), as it last said. */
  refusal(mvn: string, ip: string): string | undefined { return this.refusals.get(mvn, ip); }

  /** Pool addresses nobody uses, not returned, not external, lowest first. */
  free(mvn: string): string[] {
    const b = this.book(mvn);
    const out = new Set([...b.returned, ...b.external]);
    return b.pool.filter((a) => !b.assigned[a] && !out.has(a));
  }

  assigned(mvn: string): Assigned[] {
    return Object.entries(this.book(mvn).assigned).map(([ip, a]) => ({ ip, rev: this.revs.of(mvn, ip), ...a }));
  }

  /** The entry of ip as it is now, if any. */
  entry(mvn: string, ip: string): Assigned | undefined {
    const a = this.state.nets[mvn]?.assigned[ip];
    return a && { ip, rev: this.revs.of(mvn, ip), ...a };
  }

  /** The entry `a` was read from is still there and has not changed since (nor been replaced). */
  unchanged(mvn: string, a: Assigned): boolean {
    return !!this.state.nets[mvn]?.assigned[a.ip] && this.revs.of(mvn, a.ip) === a.rev;
  }

  /** ip's entry changed (or went): whoever holds an older read of it must not act on that read. */
  private touch(mvn: string, ip: string): void {
    this.revs.bump(mvn, ip);
    this.turns.began(mvn, ip); // handed out or freed: a look begun before says nothing of it now
  }

  /**
   * Addresses a --ip request in flight waits for, in memory (the request dies with the process).
   * Granted, such an address is free until the request wakes and takes it: never given back
   * meanwhile as surplus above the controller's limit (the request waited out its 20 s for nothing).
   */
  private readonly awaited = new AwaitedAddresses();

  /** Hands out ip (free, or kept for a container and asked for by --ip) to a container to be; journaled first. */
  assign(mvn: string, ip: string): void {
    this.awaited.delete(mvn, ip);
    this.served(mvn).assigned[ip] = { at: Date.now() };
    this.touch(mvn, ip);
    this.persist(mvn);
  }

  /**
   * The kept address a request without --ip comes back for, or none (a new container). Never
   * one its container asks for by --ip (it gets that one by asking). Restoring (a restarted
   * dockerd starts again the containers its restart policies say, all at once, after releasing
   * every address it held): addresses of those containers, whenever released, then of
   * containers not learnt yet released within the window; otherwise only the address kept for
   * a container Docker is starting now (`starting`, ./kept-owner.ts), however long ago kept.
   */
  guess(mvn: string, restoring: boolean, starting?: ReadonlySet<string>): string | undefined {
    const entries = Object.entries(this.book(mvn).assigned);
    return guessKept(entries.map(([ip, entry]) => ({ ip, entry, rev: this.revs.of(mvn, ip), inPool: this.inPool(mvn, ip) })), restoring, Date.now(), starting);
  }

  /** Records what Docker says of the container holding (or kept) ip. */
  learn(mvn: string, ip: string, container: string, facts: ContainerFacts): void {
    const a = this.book(mvn).assigned[ip];
    if (!a || a.container !== container || (a.restarts === facts.restarts && a.pinned === facts.pinned)) return;
    a.restarts = facts.restarts; a.pinned = facts.pinned;
    this.touch(mvn, ip);
    this.save();
  }

  /** What was learnt of a container is stale (docker update): learnt again at the next sync. */
  unlearn(container: string): void {
    let changed = false;
    for (const [mvn, b] of Object.entries(this.state.nets)) {
      for (const [ip, a] of Object.entries(b.assigned)) {
        if (a.container !== container || (a.restarts === undefined && a.pinned === undefined)) continue;
        delete a.restarts; delete a.pinned;
        this.touch(mvn, ip);
        changed = true;
      }
    }
    if (changed) this.save();
  }

  isKept(mvn: string, ip: string): boolean { return this.book(mvn).assigned[ip]?.released !== undefined; }

  /** ip is among the addresses the controller currently gives this node. */
  inPool(mvn: string, ip: string): boolean { return this.book(mvn).pool.includes(ip); }

  /** Gives an address kept for a container to a starting one (most likely that container, restarting); no longer awaited, as assign. */
  lend(mvn: string, ip: string): void {
    const a = this.book(mvn).assigned[ip];
    if (!a?.container) return this.assign(mvn, ip);
    this.awaited.delete(mvn, ip);
    const { container, name, restarts, pinned } = a;
    this.book(mvn).assigned[ip] = { at: Date.now(), lentFrom: { container, ...defined({ name, restarts, pinned }) } };
    this.touch(mvn, ip);
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
    this.touch(mvn, ip);
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

  /** Docker shows ip live on container (read at start, ./adopt.ts): in use by it, whatever the book said. */
  adopt(mvn: string, ip: string, container: string, name: string): void {
    const b = this.served(mvn);
    if (!b.assigned[ip]) { b.assigned[ip] = { at: Date.now() }; this.touch(mvn, ip); }
    this.identify(mvn, ip, container, name);
  }

  /** Addresses containers here use that the controller does not give this node (adopted from Docker). */
  outsidePool(mvn: string): Assigned[] {
    const pool = new Set(this.book(mvn).pool);
    return this.assigned(mvn).filter((a) => a.released === undefined && !pool.has(a.ip));
  }

  /** Records which container an address went to (learnt from Docker afterwards). */
  identify(mvn: string, ip: string, container: string, name: string): void {
    const a = this.book(mvn).assigned[ip];
    if (!a || (a.container === container && a.name === name && a.released === undefined && a.lentFrom?.container !== container)) return;
    if (a.container !== container) { delete a.restarts; delete a.pinned; } // learnt of another container
    a.container = container; a.name = name;
    delete a.released;
    if (a.lentFrom?.container === container) delete a.lentFrom;
    this.touch(mvn, ip);
    this.persist(mvn);
  }

  /**
   * Docker released ip (ReleaseAddress, or the agent saw its container stopped): an address
   * lent away goes back to the container it is kept for; a container's own address is kept
   * for it, unless it has another one kept (then this one is free). `at`: when Docker let go of
   * it, by default now (a ReleaseAddress); a release the agent inferred passes an earlier time.
   */
  dockerReleased(mvn: string, ip: string, at = Date.now()): void {
    const a = this.book(mvn).assigned[ip];
    if (!a) return;
    // lent and not (yet) known to be another container that asked for it by --ip: back to its owner
    if (a.lentFrom && a.lentFrom.container !== a.container && !(a.container && a.pinned)) {
      const { container, name, restarts, pinned } = a.lentFrom;
      this.book(mvn).assigned[ip] = { at: a.at, container, ...defined({ name, restarts, pinned }), released: at };
    } else if (a.container && !this.homeOf(mvn, a.container, ip)) {
      a.released = at;
      delete a.lentFrom;
    } else return this.drop(mvn, ip);
    this.touch(mvn, ip);
    this.persist(mvn);
  }

  /** ip is free again (its container is gone, or it was never seen on one). */
  drop(mvn: string, ip: string): void {
    const b = this.book(mvn);
    if (!b.assigned[ip]) return;
    delete b.assigned[ip];
    this.touch(mvn, ip);
    // Idle: more free than needed goes back to the controller (never handed out again here).
    const awaited = this.awaited.of(mvn);
    b.returned.push(...surplusOf(this.free(mvn).filter((a) => !awaited.has(a)), this.limits.get(mvn)));
    this.persist(mvn);
    this.wake(mvn); // a request waiting for a free address takes it now, not at its wait's end
  }

  markExternal(mvn: string, ip: string): void {
    const b = this.book(mvn);
    if (b.assigned[ip] || b.external.includes(ip)) return;
    b.external.push(ip);
    this.persist(mvn);
  }

  /** ip was seen free by a probe in its current turn, recently enough (./pool-turns.ts). */
  isProbed(mvn: string, ip: string, maxAgeMs?: number): boolean { return this.book(mvn).probed.includes(ip) && this.turns.fresh(mvn, ip, maxAgeMs); }

  /** Each address's turn in this node's pool (./pool-turns.ts), for a probe's outcome. */
  private readonly turns = new PoolTurns();

  /** ip's turn in the pool now: a probe takes it before it looks and hands it to inTurn() after. */
  poolTurn(mvn: string, ip: string): number { return this.turns.of(mvn, ip); }

  /** ip is still in the pool, in the same turn: what a probe begun then saw still counts. */
  inTurn(mvn: string, ip: string, turn: number): boolean { return this.inPool(mvn, ip) && this.turns.of(mvn, ip) === turn; }

  markProbed(mvn: string, ip: string): void {
    const b = this.book(mvn);
    this.turns.sawFree(mvn, ip);
    // not written now: an agent started again looks afresh (constructor), so no fsync per probe
    if (!b.probed.includes(ip)) b.probed.push(ip);
  }

  /** Asks the controller for an address by name (docker run --ip; `home`: a kept home, no request waits) or for more. */
  ask(mvn: string, what: { ip?: string; more?: number; home?: boolean }): void {
    const b = this.book(mvn);
    if (what.ip) {
      if (!b.requested.includes(what.ip)) b.requested.push(what.ip);
      if (!what.home) this.awaited.add(mvn, what.ip);
    }
    if (what.more) b.want = Math.max(b.want, what.more);
    this.persist(mvn);
  }

  /** The request that asked for more is over (answered, refused, timed out): the report asks no more (one request at a time). */
  stopWanting(mvn: string): void {
    const b = this.book(mvn);
    if (b.want) { b.want = 0; this.persist(mvn); }
  }

  /** Addresses asked for by name that no --ip request in flight waits for: homes asked for, or left by an agent stopped mid-request. */
  askedUnawaited(mvn: string): string[] { const w = this.awaited.of(mvn); return this.book(mvn).requested.filter((a) => !w.has(a)); }

  /** Stops asking for a --ip address (refused, or given up on). */
  unask(mvn: string, ip: string): void {
    const b = this.book(mvn);
    this.awaited.delete(mvn, ip);
    if (!b.requested.includes(ip)) return;
    b.requested = b.requested.filter((a) => a !== ip);
    this.persist(mvn);
  }

  /** Resolves when the pool changes next (or after ms). */
  poolChanged(mvn: string, ms: number): Promise<void> { return this.changes.next(mvn, ms); }

  /** requests waiting for `mvn`'s pool to change now (tests) */
  waitingFor(mvn: string): number { return this.changes.count(mvn); }

  /** The MacvlanNet left this node: its entry goes, and requests waiting on it wake (to be refused, ./node-ipam.ts). */
  forget(mvn: string): void {
    if (!this.state.nets[mvn]) return;
    delete this.state.nets[mvn];
    this.turns.forget(mvn); this.marks.forget(mvn);
    this.save();
    this.wake(mvn);
  }

  /** What goes into this node's MacvlanNet status for the controller (with the marks found free again: ./external-marks.ts). */
  report(mvn: string): NodeIpamReport { return bookReport(this.book(mvn), this.marks.cleared(mvn)); }

  private closed = false;

  /**
   * The agent stops: the journal is written no more; what a request or probe in flight changes
   * dies with this process, as after a crash (the next agent reads the journal as this one left it).
   */
  close(): void { this.closed = true; }

  /** Writes the journal, unless closed. */
  private save(): void {
    if (!this.closed) this.journal.save(this.state);
  }

  private persist(mvn: string): void {
    if (this.closed || !this.state.nets[mvn]) return; // one not served is written to nowhere (book())
    this.save();
    this.onChange(mvn);
  }
}
