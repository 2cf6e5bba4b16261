// A dry run of a write (apply, delete, label --dry-run): the batch planned against what is
// stored, as the write plans it, and each of its transactions sent to etcd with one compare that
// never holds. etcd checks the identity's permission on every key of a transaction (its compares
// and both branches) before it evaluates a compare, so an identity the write would be refused for
// is refused by the dry run, with the same error, and nothing is written either way. Before, a
// dry run read what it could and said the write would go through, which then failed.
import type { Etcd3, ICompare, IRequestOp } from 'etcd3';
import type { EtcdLimits } from '../etcd/limits.js';
import { InterruptedError, distinctCompares, packSteps, writes } from './txn-writer.js';
import type { WriteStep } from './write-plan.js';
import type { WriteProgress } from './types.js';

/**
 * A dry run's results; its progress says the transactions the batch would take (packed as the
 * write's would be), none taken. `client`: where the permissions are checked; none for `xctl
 * diff`, which a read-only identity may run. Ctrl-C (`signal`) stops the checks between two.
 */
export async function dryRunResults<R>(client: Etcd3 | undefined, steps: WriteStep<R>[], limits: EtcdLimits,
  o: { onProgress?: (p: WriteProgress) => void; signal?: AbortSignal } = {}): Promise<R[]> {
  const runs = packSteps(steps, limits).filter(writes);
  o.onProgress?.({ total: steps.length, done: 0, written: 0, transactions: 0, planned: runs.length });
  for (const run of client ? runs : []) {
    if (o.signal?.aborted) throw new InterruptedError();
    await checkPermitted(client!, run, limits);
  }
  return steps.map((s) => s.result);
}

/**
 * Sends the run's transaction with a compare that never holds (a key's version below 0) in
 * place of one of its own on the same key, or added when it has none on a single key: etcd
 * checks it as it would check the write, answers `succeeded: false` and writes nothing.
 */
async function checkPermitted<R>(client: Etcd3, run: WriteStep<R>[], limits: EtcdLimits): Promise<void> {
  const compares = distinctCompares(run);
  const success = run.flatMap((s) => s.ops);
  const i = compares.findIndex((c) => !c.range_end);
  if (i >= 0) compares[i] = never(compares[i].key!);
  else if (compares.length < limits.maxTxnOps && keyOf(success[0])) compares.push(never(keyOf(success[0])!));
  // every step of a write pins its object's key with a compare of its own: not reached
  else throw new Error('a dry run\'s transaction has no compare to make one that never holds of');
  const res = await client.kv.txn({ compare: compares, success, failure: [] });
  if (res.succeeded) throw new Error('a dry run\'s permission check wrote its transaction (a compare that never holds held)');
}

const never = (key: ICompare['key']): ICompare => ({ key, target: 'Version', result: 'Less', version: 0 });

function keyOf(op: IRequestOp | undefined): ICompare['key'] | undefined {
  return op?.request_put?.key ?? op?.request_delete_range?.key;
}
