// An election key that no candidate's lease keeps: written without a lease (an admin's or a
// script's put, a restore from a backup, an older tool) it never expires, so no controller
// would ever lead and nothing would be allocated. Etcd's own election recipe trusts only
// lease-bound keys; so does a campaign here: such a key is deleted (compared on its
// mod_revision, so that a real holder that wrote in between is left alone) and the campaign
// goes on as usual.
import type { Etcd3, IKeyValue } from 'etcd3';
import { deleteOp, modifiedAt, txn } from './kv.js';
import { withTimeout } from './watch-wait.js';
import { printable } from '../printable.js';

/** How long the look-up of a holder's lease may take; one that does not answer counts as live. */
export const LEASE_LOOKUP_MS = 3000;

/**
 * Why `holder`, the election key as a campaign found it, is held by no live lease, or undefined
 * when it is (or when etcd did not say: such a holder is waited on as any other).
 */
export async function staleHolder(client: Etcd3, holder: IKeyValue): Promise<string | undefined> {
  const lease = String(holder.lease ?? '0');
  if (lease === '0') return 'no lease (a key written without one never expires)';
  try {
    const r = await withTimeout(client.leaseClient.leaseTimeToLive({ ID: lease, keys: false }), LEASE_LOOKUP_MS, 'leader lease look-up');
    // etcd answers TTL -1 for a lease it does not have
    return Number(r.TTL) < 0 ? `lease ${lease}, which etcd no longer has` : undefined;
  } catch {
    return undefined;
  }
}

/** Deletes the stale holder's key unless it changed since it was read; whether it was deleted. */
export async function removeStaleHolder(client: Etcd3, key: string, holder: IKeyValue): Promise<boolean> {
  const res = await txn(client, [modifiedAt(key, String(holder.mod_revision))], [deleteOp(key)]);
  return res.succeeded;
}

/** A holder as the warning names it: its value (the holder's id, as written) and revisions. */
export function describeHolder(holder: IKeyValue): Record<string, string> {
  return {
    value: printable(holder.value.toString().slice(0, 200)),
    lease: String(holder.lease ?? '0'),
    createRevision: String(holder.create_revision),
    modRevision: String(holder.mod_revision),
  };
}
