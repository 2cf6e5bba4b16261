// Fields set once, when the object is created. What was built from such a field would be
// stranded by a change: a ClusterNetwork's HostSubnets claim their blocks per `hostPrefix`
// block, so two of them could fall in one block after a change (Calico's IP pool `blockSize`
// "can only be set when the pool is created" for the same reason); a MacvlanNet's `dockerIPAM`
// likewise (the claims of the running containers' addresses). One rule, used by xctl's
// apply-time check, which names the file and line, and by the store's write plan, which
// holds it against the stored version its transaction is pinned to.
import { sameJson } from './key-order.js';
import type { AnyObject } from './types.js';
import type { FieldIssue } from './validate.js';

interface SetOnceField { path: string[]; change: string }

const SET_ONCE: Partial<Record<AnyObject['kind'], SetOnceField[]>> = {
  ClusterNetwork: [{
    path: ['spec', 'hostPrefix'],
    change: 'to change it, create a new ClusterNetwork (or delete this one and create it again)',
  }],
  // Who hands plain `docker run` containers their addresses: the addresses containers hold were
  // handed out and claimed under one mode; switched while they ran, the other mode's claims took
  // their place and the same address went to a container on another host.
  MacvlanNet: [{
    path: ['spec', 'dockerIPAM'],
    change: 'to change it, create a new MacvlanNet (or delete this one, which goes once no host\'s containers use its Docker network, and create it again)',
  }],
};

function valueAt(obj: unknown, path: string[]): unknown {
  let v = obj;
  for (const p of path) v = (v as Record<string, unknown> | undefined)?.[p];
  return v;
}

/** The set-once fields that `wanted` changes from the `stored` object of the same kind and name. */
export function setOnceIssues(stored: Pick<AnyObject, 'kind' | 'spec'>, wanted: Pick<AnyObject, 'kind' | 'spec'>): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const f of SET_ONCE[stored.kind] ?? []) {
    const was = valueAt(stored, f.path);
    const now = valueAt(wanted, f.path);
    if (was === undefined || sameJson(was, now)) continue;
    out.push({ path: f.path, message: `is set once, when the ${stored.kind} is created (stored: ${JSON.stringify(was)}); ${f.change}` });
  }
  return out;
}
