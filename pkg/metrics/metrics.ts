// Every metric xnet exports, defined once (prom-client) and registered in one registry per
// process. Code that does the work records into these; pkg/metrics/server.ts serves them.
// Names follow Prometheus conventions: base units (seconds), _total for counters.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestTimer } from '../etcd/client.js';

export const registry = new Registry();

// Latencies here range from a cached etcd read (~1 ms) to a Docker network create (seconds).
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const counter = (name: string, help: string, labelNames: string[]) => new Counter({ name, help, labelNames, registers: [registry] });
const histogram = (name: string, help: string, labelNames: string[]) => new Histogram({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers: [registry] });

export const reconcileDuration = histogram('xnet_reconcile_duration_seconds', 'Time one reconcile of one work-queue key took, by kind', ['kind']);
export const reconcileErrors = counter('xnet_reconcile_errors_total', 'Reconciles that failed and were retried with backoff, by kind', ['kind']);
export const reconcileWaits = counter('xnet_reconcile_waits_total', 'Reconciles that wait for something to come free (an address, a block) and were retried with backoff, by kind', ['kind']);
export const workqueueRetries = counter('xnet_workqueue_retries_total', 'Keys re-added to a work queue with backoff after a failure', ['queue']);
export const allocations = counter('xnet_allocations_total', 'Allocations the controller made or refused (HostSubnet subnets, ContainerNic addresses), by kind and result', ['kind', 'result']);
export const allocationLatency = histogram('xnet_allocation_latency_seconds', 'From an object\'s creation to its allocation being stored, by kind', ['kind']);
export const etcdRequestDuration = histogram('xnet_etcd_request_duration_seconds', 'etcd unary requests (including the client\'s retries), by service and method', ['method']);
export const etcdRequestErrors = counter('xnet_etcd_request_errors_total', 'etcd unary requests that failed, by service and method', ['method']);
export const watchRestarts = counter('xnet_watch_restarts_total', 'etcd watches restarted (relist after compaction or a lost stream), by what was watched', ['watch']);
export const driftHealed = counter('xnet_drift_healed_total', 'Host drift the agent repaired (a reconcile that ran ops after a kernel, Docker or resync trigger, or in its start-up pass where it proved the state was in place before: restart), by kind and trigger', ['kind', 'trigger']);
export const healLatency = histogram('xnet_heal_latency_seconds', 'From the kernel or Docker event that showed drift to the repair being applied, by kind', ['kind']);
export const commandDuration = histogram('xnet_command_duration_seconds', 'Host commands the agent ran (ip, iptables-save/restore, nsenter...), by program', ['command']);
export const commandErrors = counter('xnet_command_errors_total', 'Host commands that failed, by program', ['command']);
export const hostReads = counter('xnet_host_reads_total', 'The agent\'s reads of its host\'s links, addresses and main routes, by where the answer came from: kernel (an `ip` run) or kept (nothing changed since the last read)', ['from']);
export const natReads = counter('xnet_nat_reads_total', 'The NAT pass\'s reads of its host\'s iptables (nat and filter) and of net.ipv4.ip_forward, by read and by where the answer came from: kernel (iptables-save, sysctl run) or kept (nothing changed since the last read)', ['read', 'from']);
export const arpProbes = counter('xnet_arp_probes_total', 'ARP probes (arping -D) the agent\'s IPAM plugin ran before handing out an address, by result: free, answered, unavailable (could not look)', ['result']);
// at 0 from the start: an alert on increase() sees a series' first probe only if it was there before it
for (const result of ['free', 'answered', 'unavailable']) arpProbes.inc({ result }, 0);
export const externalReprobes = counter('xnet_external_reprobes_total', 'ARP probes the agent\'s IPAM plugin ran again of addresses it had marked external, after their quarantine, by result: free (the mark is cleared), answered (kept), unavailable (kept)', ['result']);
export const eventsDropped = counter('xnet_events_dropped_total', 'Events the recorder dropped at its rate limit instead of writing them, by component', ['component']);
export const dockerRequestDuration = histogram('xnet_docker_request_duration_seconds', 'Docker API calls, by operation', ['operation']);
// A controller's own: registered by a process that runs one (registerControllerMetrics), not by
// every process, or each agent would export `xnet_leader 0` and count as a standby.
export const leader = new Gauge({ name: 'xnet_leader', help: '1 while this controller leads, else 0', registers: [] });
export const leaderTerms = new Counter({ name: 'xnet_leader_terms_total', help: 'Leadership terms this controller has started', registers: [] });

/** Exports the controller's own metrics from this process (once, however many controllers it runs). */
export function registerControllerMetrics(): void {
  if (!registry.getSingleMetric('xnet_leader')) { registry.registerMetric(leader); registry.registerMetric(leaderTerms); }
}

const queues = new Map<string, () => number>();
new Gauge({
  name: 'xnet_workqueue_depth', help: 'Keys waiting in a work queue (not processing, not delayed)', labelNames: ['queue'], registers: [registry],
  collect() { this.reset(); for (const [q, len] of queues) this.set({ queue: q }, len()); },
});

/** Reports a work queue's depth at every scrape; returns the unregistration. */
export function trackQueue(name: string, len: () => number): () => void {
  queues.set(name, len);
  return () => { if (queues.get(name) === len) queues.delete(name); };
}

let defaultsOn = false;
/** Process metrics (CPU, memory, event-loop lag) and the labels every series carries. */
export function initProcessMetrics(labels: Record<string, string>): void {
  registry.setDefaultLabels(labels);
  if (!defaultsOn) { collectDefaultMetrics({ register: registry }); defaultsOn = true; }
}

/** The daemons' etcd request timer (createEtcdClient): xnet_etcd_request_duration_seconds and _errors_total. */
export const timeEtcdRequest: RequestTimer = (method, call) => timed(etcdRequestDuration, { method }, call, etcdRequestErrors);

/** Runs f and records its duration in h (and a failure in errors), whatever the outcome. */
export async function timed<T>(h: Histogram<string>, labels: Record<string, string>, f: () => Promise<T>, errors?: Counter<string>): Promise<T> {
  const end = h.startTimer(labels);
  try {
    return await f();
  } catch (e) {
    errors?.inc(labels);
    throw e;
  } finally {
    end();
  }
}
