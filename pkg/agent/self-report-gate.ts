// An agent writes no report on an object before its report about itself is in etcd. The
// controller reads a node's reports on objects without one about itself as an agent that ran and
// stopped (NodeLost, its MacvlanNet parts not ready: controller/macvlan-agent.ts agentLost),
// since such reports outlive the lease-bound one. An agent whose first beat failed (etcd busy at
// its start, a lease not granted in time) went on to reconcile and report on objects, so the
// controller judged a live, starting agent lost until its next beat. Held back here instead:
// the report fails its reconcile, which the work queue retries (AGENT_QUEUE_BACKOFF, at most
// 10 s apart) until the heartbeat has written the report about itself once.
import { SelfReportPendingError } from '../errors.js';

export class SelfReportGate {
  private open = false;
  /** a report was held back while closed: its reconcile waits out its backoff unless woken */
  private held = false;

  /** `onOpen`: called once, at the opening, if a report was held back (the agent reconciles all again). */
  constructor(private readonly node: string, private readonly onOpen?: () => void) {}

  /** The report about this node was written (SelfReport): reports on objects may follow, for good. */
  selfReported(): void {
    if (this.open) return;
    this.open = true;
    // the reconciles refused meanwhile backed off (up to 10 s): run them now, not then
    if (this.held) this.onOpen?.();
  }

  /** Whether the report about this node was written since the agent started. */
  get passed(): boolean { return this.open; }

  /** Throws (retryable) while the node's report about itself was never written by this agent. */
  check(kind: string, name: string): void {
    if (this.open) return;
    this.held = true;
    throw new SelfReportPendingError(`${kind} ${name}: no report on it before node ${this.node}'s report about itself is in etcd (its first heartbeat has not succeeded yet)`);
  }
}
