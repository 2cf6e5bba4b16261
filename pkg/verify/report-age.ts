// How old an agent's observed-state report is (report.ts). A report is written only when its
// result changes, so its content says nothing of its age; its lease does: the agent's client
// renews it every third of its TTL while the agent runs, and once the agent stops the key stays
// until the TTL runs out. Read right after an agent was killed, such a report still said "no
// differences" for a host whose route had just been deleted. etcd tells how long the lease has
// left (LeaseTimeToLive); what is gone of its TTL is how long since the agent last renewed it.
import type { Etcd3 } from 'etcd3';

/** A report whose agent has not renewed it for longer than a running one would. */
export interface StaleReport {
  /** seconds since its agent last renewed it (etcd counts whole seconds) */
  age: number;
  /** the lease's TTL: a stopped agent's report is gone this long after its last renewal */
  ttl: number;
}

/**
 * The report's age when it is past what a running agent allows, else undefined. A running
 * agent renews every ttl/3 s; etcd's remaining TTL is whole seconds (rounded down), which adds
 * up to one second: an age past ttl/3 + 1 is a renewal missed. A lease already expired (-1) or
 * never granted says nothing.
 */
export function staleAge(grantedTtl: number, remainingTtl: number): StaleReport | undefined {
  if (!(grantedTtl > 0) || remainingTtl < 0) return undefined;
  const age = grantedTtl - remainingTtl;
  return age > grantedTtl / 3 + 1 ? { age, ttl: grantedTtl } : undefined;
}

/**
 * Of the reports whose lease is given (node -> lease ID, '0' for none), those not fresh. A lease
 * etcd does not answer for (an older etcd's permissions, a lease gone meanwhile) is left out: the
 * report is shown as before, and verify's result does not depend on it.
 */
export async function staleReports(client: Etcd3, leases: Map<string, string>): Promise<Map<string, StaleReport>> {
  const out = new Map<string, StaleReport>();
  await Promise.all([...leases].map(async ([node, id]) => {
    if (!id || id === '0') return;
    try {
      const r = await client.leaseClient.leaseTimeToLive({ ID: id });
      const stale = staleAge(Number(r.grantedTTL), Number(r.TTL));
      if (stale) out.set(node, stale);
    } catch { /* unknown: shown as fresh */ }
  }));
  return out;
}

/** "host-1's report is 8 s old: ..." on stderr, one line per stale report. */
export function staleLines(stale: Map<string, StaleReport>): string {
  return [...stale].sort(([a], [b]) => a.localeCompare(b)).map(([node, s]) =>
    `warning: the report of ${node} is ${s.age} s old: its agent has not renewed it since (a running agent does every ${Math.ceil(s.ttl / 3)} s) ` +
    `and may have stopped, so what it says may be out of date; a stopped agent's report is gone ${s.ttl} s after its last renewal\n`).join('');
}
