// The ContainerNics each pool has refused for want of a free address: their Allocated condition
// False, PoolExhausted, as their allocation wrote it (nics.ts failNic, the one owner of that
// decision). A MacvlanNet's Ready counts them (macvlan-status.ts): it said True while NICs on it
// waited for the addresses its nodes were asked to give back, and `xctl wait --for=condition=Ready`
// returned before those NICs could work. Filed as the statuses change (Model.index), so a
// network's reconcile reads its own waiting NICs, never every NIC of the cluster.

/** Whether a ContainerNic's controller status (as stored, untrusted) says it waits for a free address. */
export function waitsForAddress(status: unknown): boolean {
  const conditions = (status as { conditions?: unknown } | null | undefined)?.conditions;
  if (!Array.isArray(conditions)) return false;
  const allocated = conditions.find((c) => (c as { type?: unknown } | null)?.type === 'Allocated') as { status?: unknown; reason?: unknown } | undefined;
  return allocated?.status === 'False' && allocated.reason === 'PoolExhausted';
}

export class AddressWaiters {
  /** NIC name -> the status key that says it waits (a NIC moved to another node has two keys for a moment) */
  private readonly statusKey = new Map<string, string>();
  /** NIC name -> the pool ("macvlannets/lan") its object draws from, while it waits */
  private readonly poolOf = new Map<string, string>();
  private readonly byPool = new Map<string, Set<string>>();

  /** A NIC's controller status at `key` changed; `poolId`: its object's pool as cached now. */
  fileStatus(name: string, key: string, waits: boolean, poolId: string | undefined): void {
    if (waits) {
      this.statusKey.set(name, key);
      this.place(name, poolId);
      return;
    }
    // the old key of a NIC that moved node, going after the new one said it waits, changes nothing
    if (this.statusKey.get(name) !== key) return;
    this.statusKey.delete(name);
    this.place(name, undefined);
  }

  /** A NIC's object changed (made, moved to another network, deleted): it waits in its pool as it is now. */
  fileObject(name: string, poolId: string | undefined): void {
    if (this.statusKey.has(name)) this.place(name, poolId);
  }

  /** The NICs waiting in the pool, by name. */
  in(poolId: string): string[] {
    return [...this.byPool.get(poolId) ?? []].sort();
  }

  private place(name: string, poolId: string | undefined): void {
    const was = this.poolOf.get(name);
    if (was === poolId) return;
    if (was !== undefined) {
      const s = this.byPool.get(was);
      s?.delete(name);
      if (s?.size === 0) this.byPool.delete(was);
    }
    if (poolId === undefined) { this.poolOf.delete(name); return; }
    this.poolOf.set(name, poolId);
    let s = this.byPool.get(poolId);
    if (!s) this.byPool.set(poolId, (s = new Set()));
    s.add(name);
  }
}
