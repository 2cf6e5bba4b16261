// The work-queue side of a ContainerNic's address: its request handed to its pool's executor
// (nics.ts plans it there), and what its outcome asks for afterwards (its event and metrics,
// a look again later, a wait for a free address). Every queued NIC is reconciled this way: a
// run of them is handed to their pools in one go (reconcileNics: runWorkers' bulk reconcile,
// which takes every ContainerNic key), each NIC's outcome handled as if it had been reconciled
// alone.
import type { ContainerNic, Kind } from '../api/index.js';
import type { EventRecorder } from '../events/recorder.js';
import type { PoolType } from '../ipam/keys.js';
import { nicPool, type Entry, type Model } from './model.js';
import type { PoolExecutor } from './pool-executor.js';
import type { NicOutcome } from './nics.js';
import type { MacvlanOutcome } from './macvlan.js';
import type { LateWarnings } from './late-warnings.js';
import { recordAllocation } from './record-allocation.js';
import { RetryLater } from './retry-later.js';

/** node: the NIC's node when it was queued, which only groups it with its node's NICs in a round */
export type AddrItem = { type: 'nic'; name: string; node: string } | { type: 'mvn'; name: string };
export type AddrOutcome = NicOutcome | MacvlanOutcome;

/** What a NIC's work needs of its term. */
export interface NicWorkHost {
  readonly model: Model;
  readonly late: LateWarnings;
  readonly events: EventRecorder;
  addrExecutor(pool: string): PoolExecutor<AddrItem, AddrOutcome>;
  enqueue(kind: Kind, name: string, afterMs?: number): void;
  /** the NIC waits for something in the pool (a free address, a HostSubnet) */
  wait(pool: string, nic: string): void;
  /** an address was allocated (the term logs its first) */
  allocated(): void;
}

/** The NIC as its reconcile found it, and the pool it draws from. */
interface NicAt { name: string; nic: Entry<ContainerNic>; pool?: { type: PoolType; name: string }; poolId: string }

function nicAt(model: Model, name: string): NicAt | undefined {
  const nic = model.nic(name);
  if (!nic) return undefined;
  const pool = nicPool(nic.obj);
  return { name, nic, pool, poolId: pool ? `${pool.type}/${pool.name}` : 'none' };
}

const itemOf = (at: NicAt): AddrItem => ({ type: 'nic', name: at.name, node: at.nic.obj.spec.node });

/**
 * A run of NICs reconciled at once: each pool's NICs submitted to its executor with one call,
 * no promise per NIC (one executor per pool: a round plans the NICs of every node together and
 * commits them in transactions side by side; a thousand nodes with a few NICs each still fill
 * them). `settled(i)` once per names[i]: with the error its reconcile would have thrown, if any
 * (a NIC gone settles at once, a NIC that waits with RetryLater).
 * Never throws: what goes wrong for one NIC (its lookup) or one pool (its hand-over) fails those
 * alone, as their reconciles of their own would have; a throw from here would fail the whole
 * run, NICs already handed to a pool included, which would then be taken again while their
 * pool still plans them.
 */
export function reconcileNics(h: NicWorkHost, names: readonly string[], settled: (i: number, error?: { error: unknown }) => void): void {
  const byPool = new Map<string, PoolRun>();
  names.forEach((name, i) => {
    let at: NicAt | undefined;
    try {
      at = nicAt(h.model, name);
    } catch (error) {
      settled(i, { error });
      return;
    }
    if (!at) { settled(i); return; }
    let g = byPool.get(at.poolId);
    if (!g) byPool.set(at.poolId, (g = { ats: [], index: [] }));
    g.ats.push(at);
    g.index.push(i);
  });
  for (const [poolId, g] of byPool) handOver(h, poolId, g, settled);
}

/** A pool's NICs of a run, and their places in it. */
interface PoolRun { ats: NicAt[]; index: number[] }

function handOver(h: NicWorkHost, poolId: string, g: PoolRun, settled: (i: number, error?: { error: unknown }) => void): void {
  try {
    h.addrExecutor(poolId).submitEach(g.ats.map(itemOf), (j, how) => {
      if ('error' in how) { settled(g.index[j], how); return; }
      try {
        nicDone(h, g.ats[j], how.out as NicOutcome);
      } catch (error) {
        settled(g.index[j], { error });
        return;
      }
      settled(g.index[j]);
    });
  } catch (error) {
    // this pool's NICs fail alone; one its executor settled already is not settled again (runWorkers)
    for (const i of g.index) settled(i, { error });
  }
}

/** What a NIC's outcome asks for: told, logged, looked at again; throws RetryLater while it waits. */
function nicDone(h: NicWorkHost, at: NicAt, o: NicOutcome): void {
  const { name, pool, poolId } = at;
  const nic = at.nic.obj;
  // a refusal for a network not there yet is Normal while young (late-warnings.ts), looked at again when it ends
  const refusal = h.late.refusal(nic, o.result === 'failed' && !!o.missingNetwork);
  recordAllocation(h.events, 'ContainerNic', nic.metadata.creationTimestamp, { ...o, name, result: o.statusOnly ? 'unchanged' : o.result }, refusal.type);
  if (o.result === 'allocated') h.allocated();
  // a spec.node no Node has: a Warning once missing a while, looked at again until then; a freed address cooling: when it has cooled
  // (nothing else wakes it then), at once when it cooled while the round that refused it still ran (0: no retry's backoff)
  const again = h.late.nodeNotFound(h.model, nic) ?? refusal.againMs ?? o.coolingMs;
  if (again !== undefined) h.enqueue('ContainerNic', name, again);
  if (o.result === 'waiting') {
    h.wait(poolId, name);
    // refused until something frees up (an address, a pinned one): told as any refusal is; not
    // while released addresses only cool down (its message says when the first is reused, and it is looked at then)
    if ((o.reason === 'PoolExhausted' && o.coolingMs === undefined) || o.reason === 'IPConflict') recordAllocation(h.events, 'ContainerNic', undefined, { ...o, name, result: 'failed' });
    // its MacvlanNet's round asks the nodes holding idle pre-claims for them (macvlan-nic-need.ts)
    if (o.reason === 'PoolExhausted' && pool?.type === 'macvlannets') h.enqueue('MacvlanNet', pool.name);
    throw new RetryLater(o.reason ?? 'Waiting', o.message ?? 'waiting');
  }
  if (o.result === 'allocated' && pool?.type === 'macvlannets') h.enqueue('MacvlanNet', pool.name, 1000);
}
