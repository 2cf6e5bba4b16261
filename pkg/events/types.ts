// Kubernetes-style events: what happened to an object, by whom, how often. Stored in etcd
// under <prefix>/events/ (never under registry/, which agents watch) with a lease, so they
// expire on their own; read back by `xctl get events` and `xctl describe`.
import { z } from 'zod';
import { KINDS } from '../api/kinds.js';

export const eventType = z.enum(['Normal', 'Warning']);
export type EventType = z.infer<typeof eventType>;

// Fields the schema does not name are dropped: every node writes events, and a value nested
// hundreds of thousands of levels deep in an extra field (a node's 1.5 MiB) made `xctl get
// events -o json` and `-o yaml` fail for everyone ("Maximum call stack size exceeded").
export const xnetEvent = z.object({
  // uid: the incarnation the event is about (metadata.uid), so that describe shows an object
  // made again under the same name none of its predecessor's events; absent in events written
  // by versions before it, or when the writer did not know the object's uid
  involvedObject: z.object({ kind: z.enum(KINDS.map((k) => k.kind) as [string, ...string[]]), name: z.string(), uid: z.string().min(1).optional() }),
  type: eventType,
  reason: z.string().regex(/^[A-Z][A-Za-z]*$/),
  message: z.string().max(1024),
  source: z.object({ component: z.enum(['controller', 'agent']), node: z.string().optional() }),
  count: z.number().int().positive(),
  firstTimestamp: z.string(),
  lastTimestamp: z.string(),
});
export type XnetEvent = z.infer<typeof xnetEvent>;

/** An object events are about: uid when known (the object's metadata.uid; see xnetEvent). */
export interface InvolvedObject { kind: string; name: string; uid?: string }

/** How long an event lives after its last occurrence, by default (Kubernetes: 1 h). */
export const DEFAULT_EVENT_TTL_SECONDS = 3600;

/**
 * How long an object never Ready may be not Ready for one SETTLING reason before it is a
 * Warning, from when this agent first reported that reason on that incarnation (agent/settling.ts);
 * the controller waits as long before it warns of a NIC whose Node is missing
 * (controller/late-warnings.ts). Longer than the agent's longest retry step
 * (AGENT_QUEUE_BACKOFF: 50 ms doubling to 10 s; its 8th try is 12.75 s in) and than a
 * heartbeat or two (5 s): a first apply converges by events well within it. Shorter than the periodic resync (30 s): a condition only the resync would clear means an event
 * was missed, which is worth a Warning.
 */
export const DEFAULT_SETTLE_GRACE_MS = 15_000;
