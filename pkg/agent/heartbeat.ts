// The agent's report about its own node, kept current: the underlay and the kernel's
// capabilities read again at every beat, the report written when it changed (node.ts), and
// again at once when our Node changes or is deleted (which deletes the report).
import type { Condition, Node } from '../api/index.js';
import { STATUS_AUTHORITY } from '../api/authority.js';
import type { Store } from '../store/types.js';
import type { AgentContext } from './context.js';
import { NodeCapabilities } from './capabilities.js';
import { nodeReport, readUnderlay, SelfReport, type Underlay } from './node.js';
import { stuckMessage, type StuckWatch } from './stuck.js';
import { nodeInterfaceEvent } from './events.js';
import type { MonitorEvent } from '../netlink/monitor.js';
import { XNET_VERSION } from '../version.js';

export const AGENT_VERSION = XNET_VERSION;

export interface HeartbeatOptions {
  store: Store;
  leaseTtlSec?: number;
  capabilityReprobeMs?: number;
  stuck: StuckWatch;
  /** what the agent does when the kernel's capabilities changed: reconcile everything */
  onCapabilitiesChanged: () => void;
  /** the report about this node is in etcd (it opens the agent's SelfReportGate) */
  onSelfReported?: () => void;
}

export class NodeHeartbeat {
  underlay: Underlay = {};
  private readonly report: SelfReport;
  private readonly capabilities: NodeCapabilities;
  private conditions?: Condition[];
  private inFlight?: Promise<void>;
  /** host reads (underlay, capability probe) not yet finished, the start-up one included */
  private readonly hostReads = new Set<Promise<void>>();
  /** a beat was asked for while one was in flight (again) */
  private pending = false;
  private stopped = false;

  constructor(private readonly ctx: AgentContext, private readonly o: HeartbeatOptions) {
    this.report = new SelfReport(o.store, ctx.node, o.leaseTtlSec ?? 10,
      (err) => ctx.log.warn('etcd lease lost (the report went with it); a new one is taken at the next heartbeat', { error: err.message }),
      o.onSelfReported);
    this.capabilities = new NodeCapabilities((iface) => ctx.dp.capabilities(iface), o.capabilityReprobeMs);
  }

  /**
   * At start: the underlay and the capabilities, read before the first beat. Kept in
   * `hostReads` until done, so that stop() waits for it too: the start-up read runs outside
   * any beat, and its probe makes links on the host's interface that only its end deletes.
   */
  async readHost(): Promise<void> {
    if (this.stopped) return; // a start-up going on after stop(): the process is about to exit
    const read = this.readHostOnce();
    this.hostReads.add(read);
    try {
      await read;
    } finally {
      this.hostReads.delete(read);
    }
  }

  private async readHostOnce(): Promise<void> {
    // one pin for both reads: the Node may change while the underlay is read, and a probe on a
    // pin the read did not look up would run on a name the host may not have (probeInterface)
    const pinned = this.pinnedInterface();
    this.underlay = await readUnderlay(this.ctx.dp, this.underlay, this.ctx.log, pinned);
    await this.readCapabilities(pinned);
  }

  /** The Node's spec.interface, when the admin pinned one. */
  private pinnedInterface(): string | undefined {
    return this.ctx.caches.nodes.get(this.ctx.node)?.spec?.interface;
  }

  /**
   * A kernel event that may make the pinned spec.interface appear or go (events.ts,
   * nodeInterfaceEvent): the report says so at once, not at the next beat.
   */
  kernelEvent(e: MonitorEvent): void {
    const known = this.underlay.pinned;
    if (nodeInterfaceEvent(e, this.pinnedInterface(), known?.ifindex, known?.ifname)) this.again();
  }

  /** What the kernel can do on the underlay interface (probeInterface); a change is reconciled at once. */
  private async readCapabilities(pinned: string | undefined): Promise<void> {
    const iface = probeInterface(pinned, this.underlay);
    const r = await this.capabilities.read(iface);
    this.ctx.capabilities = r.found;
    if (!r.changed) return;
    this.ctx.log.info('the kernel\'s capabilities changed', { interface: iface, capabilities: r.found });
    this.o.onCapabilitiesChanged();
  }

  async beat(): Promise<void> {
    // A heartbeat stuck on an unreachable etcd must not pile up behind the timer.
    if (this.inFlight || this.stopped) return;
    this.inFlight = this.beatOnce().finally(() => {
      this.inFlight = undefined;
      if (this.pending) { this.pending = false; void this.beat(); }
    });
    await this.inFlight;
  }

  /**
   * A beat for something that changed (our Node, the pinned interface): one in flight may have
   * read the host or the Node before it, so one more follows it (at most one is pending).
   */
  private again(): void {
    if (this.inFlight) this.pending = true;
    else void this.beat();
  }

  private async beatOnce(): Promise<void> {
    await this.readHost();
    const self = this.ctx.caches.nodes.get(this.ctx.node);
    const report = nodeReport(self, {
      underlay: this.underlay, capabilities: this.ctx.capabilities, agentVersion: AGENT_VERSION,
      routeProblems: this.ctx.routeProblems, stuck: stuckMessage(this.o.stuck.check(), this.o.stuck.budgetMs),
      previous: this.report.lostSinceWrite ? [] : this.conditions ?? ((self?.status?.conditions ?? []) as Condition[]).filter((c) => STATUS_AUTHORITY.Node.nodeConditions.includes(c.type)),
    });
    try {
      await this.report.sync(report);
      this.conditions = report.conditions as Condition[];
    } catch (e) {
      this.ctx.log.warn('heartbeat failed; the dataplane is left as it is', { error: (e as Error).message });
    }
  }

  /** Our Node appeared (made by the controller), changed (spec, generation) or was deleted, which deletes our report: report again. */
  followOwnNode(): void {
    const self = this.ctx.node;
    const again = (o: Node) => { if (o.metadata.name === self) this.again(); };
    this.ctx.caches.nodes.addHandler({
      onAdd: again,
      onUpdate: again,
      onDelete: (o) => { if (o.metadata.name === self) this.report.invalidate(); again(o); },
    });
  }

  /**
   * No beat after this, and the one in flight (a probe making links, a report) ends first, as
   * does a host read outside a beat (the start-up one). The
   * lease is not revoked: an agent restarted within its TTL never shows its Node as gone.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([this.inFlight, ...this.hostReads]);
    this.report.release();
  }
}

/**
 * The interface the kernel's capabilities are probed on: the Node's pinned spec.interface, but
 * the detected one while the host has no link of the pinned name (InterfaceOnHost False): a
 * probe there fails whatever the kernel can do, and the Node reported macvlan and vlan false
 * beside the condition that names the real cause. The link made later is another interface:
 * probed again then (capabilities.ts).
 */
export function probeInterface(pinned: string | undefined, u: Underlay): string | undefined {
  if (!pinned) return u.interface;
  // an altname of a link (InterfaceOnHost False): that link, by its name
  if (u.pinned?.name === pinned && u.pinned.ifindex !== undefined && u.pinned.ifname) return u.pinned.ifname;
  const missing = u.pinned?.name === pinned && u.pinned.ifindex === undefined;
  return missing && u.interface ? u.interface : pinned;
}
