// What each agent reports of its observed state: the differences its own verifier finds
// between what etcd declares for its node and what its kernel and Docker hold. The report
// lives at /observed/nodes/<node> (outside registry/: no agent watches it), bound to a lease
// of its own so it disappears with the agent (and with its Node: xctl's delete takes it), and
// is written only when the result changes or the key is gone: a healthy cluster writes nothing
// here. `xctl verify` reads these reports from anywhere.
import type { Etcd3, Lease } from 'etcd3';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { rangePrefix } from '../etcd/range.js';
import { Keys } from '../store/keys.js';
import { decodeKey } from '../store/decode.js';
import type { SkippedKey } from '../store/types.js';
import type { Difference } from './verify.js';

/** a report longer than this lists the first ones and says how many there were */
const MAX_LISTED = 200;
const text = z.string().max(4096);

export const observedReportSchema = z.object({
  node: z.string().max(253),
  /** when this result was first seen (it is rewritten only when it changes) */
  since: z.string().datetime(),
  differences: z.array(z.object({ host: text, what: text, expected: text, found: text })).max(MAX_LISTED),
  /** differences found, listed or not */
  total: z.number().int().nonnegative(),
});
export type ObservedReport = z.infer<typeof observedReportSchema>;

export interface ObservedReporterOptions {
  client: Etcd3;
  node: string;
  prefix?: string;
  /** the report's lease: it outlives a dead agent by at most this (default 15 s) */
  ttlSeconds?: number;
  log: Logger;
}

/** Writes this node's report when its differences change, on a lease kept alive meanwhile. */
export class ObservedReporter {
  private lease?: Lease;
  private last?: string;
  /** the result last published and when it was first seen (kept when it is written again) */
  private seen?: { identity: string; since: string };
  private readonly key: string;

  constructor(private readonly o: ObservedReporterOptions) {
    this.key = new Keys(o.prefix).nodeObserved(o.node);
  }

  async publish(diffs: Difference[]): Promise<void> {
    const listed = diffs.slice(0, MAX_LISTED);
    const identity = JSON.stringify(listed) + diffs.length;
    // Unchanged, it is written again only when gone: a Node's delete takes it (store/write-plan.ts
    // removalOps) while this agent runs on. A keys-only read per check, which wakes no watcher.
    if (identity === this.last && this.lease && await this.o.client.get(this.key).exists()) return;
    if (this.seen?.identity !== identity) this.seen = { identity, since: new Date().toISOString() };
    const report: ObservedReport = { node: this.o.node, since: this.seen.since, differences: listed, total: diffs.length };
    const lease = this.ensureLease();
    // A put that fails (refused, etcd away) after the lease was granted must not leave the
    // old identity and a lease behind: the next check would take the report as written.
    this.last = undefined;
    await lease.put(this.key).value(JSON.stringify(report));
    this.last = identity;
  }

  private ensureLease(): Lease {
    if (this.lease) return this.lease;
    const lease = this.o.client.lease(this.o.ttlSeconds ?? 15, { autoKeepAlive: true });
    // lost (etcd gone past the TTL): the report went with it; the next check writes it again
    lease.on('lost', (err) => {
      if (this.lease !== lease) return;
      this.lease = undefined;
      this.o.log.warn('observed-state report lease lost; rewritten at the next check', { error: err.message });
    });
    this.lease = lease;
    return lease;
  }

  /** Ends the keep-alive; the report expires with the lease (a restarted agent rewrites it). */
  close(): void {
    this.lease?.release();
    this.lease = undefined;
  }
}

export interface ReadReports {
  reports: Map<string, ObservedReport>;
  /** each report's lease ID, by node ('0': none): how old the report is (report-age.ts) */
  leases: Map<string, string>;
  /** keys that did not decode (untrusted input: any node may write its own) */
  skipped: SkippedKey[];
}

/** Every node's current report; a report whose key and content name different nodes is skipped. */
export async function readObservedReports(client: Etcd3, prefix?: string): Promise<ReadReports> {
  const keys = new Keys(prefix);
  const root = keys.nodeObserved('');
  // In pages, as every listing of keys nodes write: one response over the client's receive limit
  // would fail `xctl verify` as a whole.
  const { kvs } = await rangePrefix(client, root);
  const out: ReadReports = { reports: new Map(), leases: new Map(), skipped: [] };
  for (const kv of kvs) {
    const [key, value] = [kv.key.toString(), kv.value.toString()];
    const node = key.slice(root.length);
    const r = decodeKey(observedReportSchema, key, value);
    if ('error' in r) out.skipped.push({ key, error: r.error });
    else if (r.value.node !== node) out.skipped.push({ key, error: `names node "${r.value.node}"` });
    else { out.reports.set(node, r.value); out.leases.set(node, String(kv.lease)); }
  }
  return out;
}
