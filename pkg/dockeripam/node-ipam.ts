// The IPAM plugin's answers for one node: pools are MacvlanNets (named in the network's
// ipam option xnet.macvlannet), addresses come from this node's AddressBook. One request at a
// time per MacvlanNet, so two containers never get the same free address.
import { parseCidr, parseIPv4, formatIPv4, cidrContains } from '../ip/ipv4.js';
import type { Logger } from '../log.js';
import type { AddressBook } from './book.js';
import { XnetIpamError } from './errors.js';
import type { AddressRequest, IpamBackend, PoolRequest } from './server.js';
import type { ProbeResult } from './arp.js';
import { Adoption, type AdoptionOptions, type SeenEndpoint } from './adopt.js';
import { monotonicMs } from '../runtime/clock.js';
import { PROBE_FRESH_MS } from './pool-turns.js';
import { keptInPool, keptOwnerGone, outOfTime, startingOwners, type GoneCheck, type StartingCheck } from './kept-owner.js';
import { ANY_ADDRESS, RefusalWatch } from './requests.js';
import { usedUpError } from './used-up.js';
import { notGivenBackWhy } from './other-nodes.js';
import { RestoreWatch } from './restore.js';

export const MVN_OPTION = 'xnet.macvlannet';
const GATEWAY_REQUEST = 'com.docker.network.gateway';

export interface NodeIpamOptions {
  book: AddressBook;
  /** who else holds ip on this MacvlanNet for good (another node's shim, an external host): refused at once */
  otherHolder(mvn: string, ip: string): string | undefined;
  /** the node the controller asks to give ip back (./give-back.ts), for the reason at the deadline */
  askedBack?(mvn: string, ip: string): string | undefined;
  /** why the MacvlanNet never hands ip out (outside ipRange, excluded, its gateway), for an --ip refused at once */
  neverHandedOut?(mvn: string, ip: string): string | undefined;
  /**
   * Why this node gets no new address on the MacvlanNet (it is being deleted, or no longer
   * selects the node): its containers keep theirs, a new one is refused at once with this,
   * instead of waiting 20 s for a refill the controller never sends and blaming the ipRange.
   */
  notOnNode?(mvn: string): string | undefined;
  /**
   * ip is claimed for this node outside the range (status.nodes[].outsideRange: an edit left
   * it out while its container used it): a kept one goes back to its stopped container's --ip.
   */
  outsideRange?(mvn: string, ip: string): boolean;
  /** ARP probe of ip on the MacvlanNet's parent; undefined: no probing */
  probe?(mvn: string, ip: string): Promise<ProbeResult>;
  log: Logger;
  /**
   * The addresses Docker's containers hold on this plugin's networks: when given, they are
   * recorded (./adopt.ts) before any address is handed out.
   */
  dockerEndpoints?(): Promise<SeenEndpoint[]>;
  adoptRetry?: AdoptionOptions['retry'];
  /**
   * Whether Docker's API answers now (bounded by the caller): an Activate from a dockerd whose
   * API answers is no restore, also before the agent's event stream first connected; nor is a
   * request without --ip during a restore once it answers (./restore.ts).
   */
  dockerPing?(): Promise<boolean>;
  /**
   * How long a RequestAddress may take from its arrival, waiting behind earlier requests on
   * its MacvlanNet and for the controller (refill, --ip) included, before it is refused.
   * Docker's plugin client gives up on a call after 30 s and replays it with an empty body.
   */
  waitMs?: number;
  /** Whether Docker is starting this (stopped) container now: only such a one gets its kept address (./kept-owner.ts) */
  starting?: StartingCheck;
  /** Whether Docker no longer has this container: its kept address is freed in a moment, so a used-up pool is not final (./kept-owner.ts) */
  gone?: GoneCheck;
}

export class NodeIpam implements IpamBackend {
  private readonly locks = new Map<string, Promise<unknown>>();

  private readonly adoption: Adoption | undefined;

  private readonly restore: RestoreWatch;

  constructor(private readonly o: NodeIpamOptions) {
    const list = o.dockerEndpoints;
    this.adoption = list && new Adoption({ book: o.book, log: o.log, list: () => list(), retry: o.adoptRetry });
    this.restore = new RestoreWatch(o.dockerPing, () => { void this.adopt(); });
  }

  /** Reads what Docker's containers hold (bounded tries); run at start and whenever Docker answers again until done. */
  adopt(): Promise<void> { return this.adoption?.run() ?? Promise.resolve(); }

  /** Plugin.Activate: a dockerd starts using the plugin (a restore while its API does not answer: ./restore.ts). */
  activate(): Promise<void> { return this.restore.activate(); }

  /** The agent's view of Docker's API: answering (restore over) or gone. */
  dockerAnswers(up: boolean): void { this.restore.dockerAnswers(up); }

  async requestPool(r: PoolRequest): Promise<{ PoolID: string; Pool: string }> {
    if (r.V6) throw new XnetIpamError('BadRequest', 'xnet IPAM serves IPv4 only');
    const mvn = r.Options?.[MVN_OPTION];
    if (!mvn) throw new XnetIpamError('BadRequest', `xnet IPAM needs --ipam-opt ${MVN_OPTION}=<MacvlanNet>; xnet's agent creates such networks itself`);
    const net = this.o.book.net(mvn);
    const pool = r.Pool || net?.subnet;
    if (!pool) throw new XnetIpamError('UnknownPool', `MacvlanNet ${mvn} is not known on this node yet`);
    if (net && net.subnet !== pool) throw new XnetIpamError('BadRequest', `MacvlanNet ${mvn} has subnet ${net.subnet}, not ${pool}`);
    return { PoolID: mvn, Pool: pool };
  }

  async releasePool(): Promise<void> { /* pools are MacvlanNets: they live in etcd, not in Docker */ }

  requestAddress(r: AddressRequest): Promise<string> {
    const mvn = r.PoolID ?? '';
    const deadline = monotonicMs() + this.waitMs();
    const want = r.Address || undefined;
    const gateway = r.Options?.RequestAddressType === GATEWAY_REQUEST;
    // only a request without --ip is guessed for: only it needs to know whether it is the restore's
    const restore = want || gateway ? Promise.resolve(this.restore.restoring()) : this.restore.fromRestore();
    return restore.then((restoring) => this.adopted(deadline, restoring)
      .then(() => this.locked(mvn, () => this.pick(mvn, want, gateway, deadline, restoring), deadline)));
  }

  /**
   * Waits (within the request's deadline) until what Docker's containers hold is recorded.
   * Not while a dockerd restores: it released every address it held before asking again, so
   * it holds none the book does not know, and its API (to read them from) answers only after.
   */
  private async adopted(deadline: number, restoring: boolean): Promise<void> {
    if (!this.adoption || this.adoption.adopted || restoring) return;
    // a run that gave up (Docker slow, an inspect failing) is tried again by whoever needs it:
    // the event stream that would ask may have stayed connected throughout
    void this.adoption.run();
    if (await this.adoption.wait(deadline)) return;
    throw new XnetIpamError('Busy', 'xnet IPAM has not yet read from Docker which addresses its containers on this node hold '
      + '(its journal of them may be lost, and Docker\'s API did not answer the agent): it hands out none before that; try again');
  }

  private waitMs(): number { return this.o.waitMs ?? 20_000; }

  releaseAddress(mvn: string, address: string): Promise<void> {
    return this.locked(mvn, async () => {
      const ip = address.split('/')[0];
      if (ip === this.o.book.net(mvn)?.gateway) return;
      this.adoption?.noteReleased(mvn, ip);
      this.o.book.dockerReleased(mvn, ip);
    });
  }

  /** background probe passes in flight, per MacvlanNet */
  private warming = new Map<string, Promise<void>>();
  private closed = false;
  private refresh: NodeJS.Timeout | undefined;

  /**
   * Looks again in the background at free addresses seen free too long ago (PROBE_FRESH_MS),
   * so that a request rarely waits for its probe after an idle while. Until close().
   */
  refreshProbes(): void {
    if (!this.o.probe || this.closed || this.refresh) return;
    // at once too: an agent started again looks afresh (its journal's marks are not trusted)
    const all = () => { for (const mvn of this.o.book.networks()) void this.warm(mvn); };
    this.refresh = setInterval(all, PROBE_FRESH_MS / 2);
    this.refresh.unref();
    all();
  }

  /** Probes the free addresses not probed yet in the background, so requests rarely wait for one. */
  warm(mvn: string): Promise<void> {
    const probe = this.o.probe;
    if (!probe || this.closed) return Promise.resolve();
    let run = this.warming.get(mvn);
    if (!run) {
      run = this.probeFree(mvn, probe)
        // e.g. the journal cannot be written (disk full): logged, never an unhandled rejection
        .catch((e) => { this.o.log.warn('IPAM: background ARP probes stopped', { macvlanNet: mvn, error: String(e) }); })
        .finally(() => this.warming.delete(mvn));
      this.warming.set(mvn, run);
    }
    return run;
  }

  private async probeFree(mvn: string, probe: NonNullable<NodeIpamOptions['probe']>): Promise<void> {
    const todo = this.o.book.free(mvn).filter((ip) => !this.o.book.isProbed(mvn, ip, PROBE_FRESH_MS / 2));
    // a probe that cannot look (no arping, no parent known yet) ends the pass: the others could not either
    let blind = false;
    const once = async (m: string, ip: string) => { const r = await probe(m, ip); blind ||= r === 'unavailable'; return r; };
    for (let i = 0; i < todo.length && !this.closed && !blind; i += 4) {
      await Promise.all(todo.slice(i, i + 4).map((ip) => this.look(mvn, ip, once)));
    }
  }

  /**
   * The plugin stops: the book writes its journal no more (an agent started next reads it as
   * this one left it, whatever a probe, a request or the adoption still in flight does), the
   * probe passes end after their batch, the adoption records nothing more. Nothing is awaited:
   * a request may wait 20 s for the controller, a probe seconds.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.refresh);
    this.o.book.close();
    this.adoption?.close();
    this.restore.close();
  }

  /**
   * Probes ip and records the outcome, unless ip left this node's pool meanwhile ('moved': it
   * may have been another node's since, so what the probe saw says nothing of it if it comes
   * back; ./pool-turns.ts). true when ip may be handed out.
   */
  private async look(mvn: string, ip: string, probe: NonNullable<NodeIpamOptions['probe']>): Promise<boolean | 'moved'> {
    const turn = this.o.book.poolTurn(mvn, ip);
    const r = await this.probeOnce(mvn, ip, turn, probe);
    return this.o.book.inTurn(mvn, ip, turn) ? this.judge(mvn, ip, r) : 'moved';
  }

  /** probes in flight, by MacvlanNet and address, with the turn they began in */
  private readonly probing = new Map<string, { turn: number; result: Promise<ProbeResult> }>();

  /** One probe of ip at a time in one turn: a request and the background pass share it. */
  private probeOnce(mvn: string, ip: string, turn: number, probe: NonNullable<NodeIpamOptions['probe']>): Promise<ProbeResult> {
    const key = `${mvn} ${ip}`;
    const out = this.probing.get(key);
    if (out?.turn === turn) return out.result;
    const result = probe(mvn, ip);
    this.probing.set(key, { turn, result });
    const done = () => { if (this.probing.get(key)?.result === result) this.probing.delete(key); };
    result.then(done, done);
    return result;
  }

  /** Records a probe's outcome; true when the address may be handed out. */
  private judge(mvn: string, ip: string, r: ProbeResult): boolean {
    if (r === 'answered') {
      this.o.log.warn('address answers an ARP probe; marked external', { macvlanNet: mvn, ip });
      this.o.book.markExternal(mvn, ip);
      return false;
    }
    // 'unavailable' (no arping, the parent not known yet): not looked at, but not held back
    // either; nothing recorded, so it is looked at once a probe can (at start the plugin serves
    // from the journal before the MacvlanNet, and so its parent, is read from etcd)
    if (r === 'free') this.o.book.markProbed(mvn, ip);
    return true;
  }

  /**
   * Runs f once the earlier calls on this MacvlanNet are done. With a deadline, a call still
   * waiting for its turn then is refused and never runs; one whose turn came runs to its end
   * (it checks the deadline itself, and an address it hands out must reach Docker).
   */
  private locked<T>(mvn: string, f: () => Promise<T>, deadline?: number): Promise<T> {
    const prev = this.locks.get(mvn) ?? Promise.resolve();
    let turn: 'waiting' | 'started' | 'gave up' = 'waiting';
    const mine = () => { if (turn === 'gave up') return undefined; turn = 'started'; return f(); };
    const next = prev.then(mine, mine) as Promise<T>;
    this.locks.set(mvn, next.catch(() => undefined));
    if (deadline === undefined) return next;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (turn !== 'waiting') return;
        turn = 'gave up';
        reject(new XnetIpamError('Busy', `no answer within ${this.waitMs()} ms: earlier requests on MacvlanNet ${mvn} were still being answered (waiting for the controller or ARP probes); try again`));
      }, Math.max(0, deadline - monotonicMs()));
      next.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }

  private async pick(mvn: string, want: string | undefined, gateway: boolean, deadline: number, restoring: boolean): Promise<string> {
    const net = this.o.book.net(mvn);
    if (!net) throw new XnetIpamError('UnknownPool', `MacvlanNet ${mvn} is not known on this node`);
    const subnet = parseCidr(net.subnet);
    const withPrefix = (ip: string) => `${ip}/${subnet.prefix}`;
    if (gateway) return withPrefix(want ?? net.gateway ?? formatIPv4(subnet.base + 1));
    if (want) {
      if (!cidrContains(subnet, parseIPv4(want))) throw new XnetIpamError('OutOfRange', `${want} is outside MacvlanNet ${mvn} (${net.subnet})`);
      return withPrefix(await this.take(mvn, want, deadline));
    }
    return withPrefix(await this.next(mvn, deadline, restoring));
  }

  /** docker run --ip: free in our pool, else asked of the controller; refused naming the holder. */
  private async take(mvn: string, ip: string, deadline: number): Promise<string> {
    const { book } = this.o;
    // the controller's refusal of this address, as ./requests.ts RefusalWatch says when it counts
    const refusal = new RefusalWatch(() => book.refusal(mvn, ip));
    for (;;) {
      // Kept for a stopped container: --ip is that container coming back pinned, or a user taking
      // it as Docker's own IPAM would let them (the stopped one then gets another on restart).
      // Lent, not assigned: stopped again before the sync knows which it is (a crash loop), it is
      // kept for its owner, not freed; once known as another container, pinned, it is that one's.
      // Only while it is in the node's pool, or still claimed for this node outside the range
      // (a container pinned to it, stopped after the edit, starts again as with Docker's own
      // IPAM): one the controller took back is asked for again.
      const kept = book.isKept(mvn, ip);
      if (kept && (book.inPool(mvn, ip) || this.o.outsideRange?.(mvn, ip))) { book.lend(mvn, ip); return ip; }
      const gone = this.notServed(mvn);
      if (gone) { book.unask(mvn, ip); throw new XnetIpamError('NotOnNode', gone); }
      const mine = kept ? undefined : book.holder(mvn, ip);
      // A refused --ip is no longer asked of the controller: stale requests would pile up in
      // the node's report until it no longer decodes (at most 256) and the node is ignored.
      const refuse = (why: string) => { book.unask(mvn, ip); return new XnetIpamError('AddressInUse', why); };
      if (mine) throw refuse(`${ip} on MacvlanNet ${mvn} is in use by ${mine} on this node`);
      if (book.free(mvn).includes(ip)) {
        const ok = await this.lookBeforeTake(mvn, ip, deadline);
        if (ok === 'moved') continue; // it left the pool, or changed hands, while looked at
        if (!ok) throw refuse(`${ip} on MacvlanNet ${mvn} is held by ${book.holder(mvn, ip) ?? 'a host outside xnet'}`);
        if (book.free(mvn).includes(ip)) { book.assign(mvn, ip); return ip; }
        continue;
      }
      const other = this.o.otherHolder(mvn, ip);
      if (other) throw refuse(`${ip} on MacvlanNet ${mvn} is held by ${other}`);
      // the controller would never grant it: said now, not after the request's 20 s
      const never = this.o.neverHandedOut?.(mvn, ip);
      if (never) throw refuse(never);
      const refused = refusal.counts();
      if (refused) throw refuse(`${ip} on MacvlanNet ${mvn} is ${refused}`);
      if (monotonicMs() > deadline) throw refuse(`${ip} on MacvlanNet ${mvn} was not granted to this node (${refusal.last() ?? this.askedWhy(mvn, ip) ?? 'is it outside ipRange, excluded, or taken?'})`);
      book.ask(mvn, { ip });
      await book.poolChanged(mvn, Math.max(10, deadline - monotonicMs()));
    }
  }

  /**
   * Why no address goes out here now: the MacvlanNet is being deleted or no longer selects the
   * node, or it left the node while the request waited (the book forgot it, and woke the request).
   */
  private notServed(mvn: string): string | undefined {
    if (!this.o.book.net(mvn)) return `MacvlanNet ${mvn} left this node while the request waited (deleted, or no longer selecting the node): no address of it goes out here`;
    return this.o.notOnNode?.(mvn);
  }

  /** The reason at the deadline while the controller still asks another node to give ip back. */
  private askedWhy(mvn: string, ip: string): string | undefined {
    const from = this.o.askedBack?.(mvn, ip);
    return from && notGivenBackWhy(from, this.waitMs());
  }

  /**
   * A free address asked for by --ip is looked at as one handed out without (a host outside
   * xnet may hold it): true when it may go, false when someone answered. None begins past the
   * request's bound.
   */
  private async lookBeforeTake(mvn: string, ip: string, deadline: number): Promise<boolean | 'moved'> {
    if (!this.o.probe || this.o.book.isProbed(mvn, ip)) return true;
    if (monotonicMs() > deadline) {
      this.o.book.unask(mvn, ip); // no longer asked of the controller, as any refusal of --ip
      throw new XnetIpamError('Busy', `${ip} on MacvlanNet ${mvn} could not be checked by ARP within ${this.waitMs()} ms of the request; try again`);
    }
    return this.look(mvn, ip, this.o.probe);
  }

  /** A restarting container's kept address, else any free address of our pool that no one answers for; waits for a refill when out. */
  private async next(mvn: string, deadline: number, fromRestore: boolean): Promise<string> {
    const { book } = this.o;
    // A stopped container Docker starts again (Docker says not which: ./kept-owner.ts) gets its
    // kept address, a new one never; a request of a dockerd's restore (./restore.ts), a guess (the
    // agent moves one home), unless the restore was over by the time its turn came.
    const restoring = fromRestore && this.restore.restoring();
    const back = book.guess(mvn, restoring, restoring ? undefined : await startingOwners(book, mvn, this.o.starting));
    if (back) { book.lend(mvn, back); return back; }
    // `want` counts requests waiting: once this one is over, whatever its outcome, its report
    // no longer asks (kept, a failed docker run left the node's part not ready for good)
    try {
      return await this.firstFree(mvn, deadline);
    } finally {
      book.stopWanting(mvn);
    }
  }

  /** Any free address of our pool that no one answers for; asks for a refill and waits when out. */
  private async firstFree(mvn: string, deadline: number): Promise<string> {
    const { book } = this.o;
    // addresses that left the pool (or were taken) while looked at; whether the last one did
    const churn = { left: 0, last: false };
    const gone = () => { churn.left++; churn.last = true; };
    // the controller's word that nothing can come (the pool is used up everywhere: ./used-up.ts)
    const usedUp = new RefusalWatch(() => book.refusal(mvn, ANY_ADDRESS));
    for (;;) {
      const left = this.notServed(mvn); // also once woken: the book forgot the MacvlanNet, or its pool changed
      if (left) throw new XnetIpamError('NotOnNode', left);
      let moved = false;
      let unchecked = false;
      for (const ip of book.free(mvn)) {
        if (this.o.probe && !book.isProbed(mvn, ip)) {
          // a probe takes up to seconds: none begins past the request's bound (Docker's client
          // gives up at 30 s and replays the call with an empty body); one checked already may still go
          if (monotonicMs() > deadline) { unchecked = true; continue; }
          const ok = await this.look(mvn, ip, this.o.probe);
          if (ok === 'moved') { moved = true; gone(); continue; }
          if (!ok) { churn.last = false; continue; }
        }
        // The probe awaited: meanwhile the address may have been returned to the controller
        // (containers removed, the book's surplus given back) or taken. Only a free one goes.
        if (!book.free(mvn).includes(ip)) { moved = true; gone(); continue; }
        book.assign(mvn, ip);
        return ip;
      }
      if (unchecked || monotonicMs() > deadline) throw outOfTime(mvn, this.waitMs(), { ...churn, unchecked, kept: keptInPool(book, mvn), usedUp: usedUp.last() });
      if (moved) continue; // the book changed while probing: look again at what is free now
      const why = usedUp.counts();
      if (why && !(await keptOwnerGone(book, mvn, this.o.gone))) throw usedUpError(mvn, why, keptInPool(book, mvn));
      churn.last = false; // what the controller gives now (or not) is the answer
      book.ask(mvn, { more: 1 });
      await book.poolChanged(mvn, Math.max(10, deadline - monotonicMs()));
    }
  }
}
