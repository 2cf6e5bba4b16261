// A release mark: what the controller writes when an address claim goes (IpamKeys.releaseMark),
// under a lease that outlives the address cooldown (--address-cooldown), so that the cooldown
// holds across controllers: one started after the release (every controller that saw it
// restarted) reads the mark and waits out the rest, instead of handing the address out at once.
// Read from etcd, so decoded like any claim: a mark that does not decode is refused and cools
// nothing (the address is then as before marks: free).
import { z } from 'zod';
import { claimRoleSchema, type ClaimRole, type IpamKeys } from './keys.js';

export interface ReleaseMark {
  /** the role of the claim that went (address-cooldown.ts coolsFor asks it) */
  role: ClaimRole;
  /** when the claim went, by the wall clock of the controller that saw it (ms since the epoch) */
  releasedAtMs: number;
  /** a node's claim: its node, and whether that Node was gone by then (Model.releasedClaim) */
  node?: string;
  nodeGone?: boolean;
}

export const releaseMarkSchema = z.object({
  role: claimRoleSchema,
  releasedAtMs: z.number().int().min(0),
  node: z.string().min(1).optional(),
  nodeGone: z.boolean().optional(),
}).strict();

/** The mark in `value`, or why it is not one. */
export function decodeReleaseMark(value: string): { mark: ReleaseMark } | { error: string } {
  let raw: unknown;
  try { raw = JSON.parse(value); } catch { return { error: 'the release mark is not readable JSON' }; }
  const r = releaseMarkSchema.safeParse(raw);
  if (!r.success) return { error: `the release mark does not decode: ${r.error.issues.map((i) => `${i.path.join('.') || '(mark)'} ${i.message}`).join('; ')}` };
  return { mark: r.data };
}

/**
 * How long ago, by this controller's monotonic clock, a mark's release was: the wall clocks'
 * difference, never below 0 (a releasing controller's clock ahead of this one's: counted from
 * now, the whole cooldown) — a clock behind only shortens what is left, by its skew.
 */
export function markAge(mark: ReleaseMark, wallNowMs: number): number {
  return Math.max(0, wallNowMs - mark.releasedAtMs);
}

/**
 * What `xctl ipam check` says of a key under ipam/ that is no claim (check-input.ts): nothing of a
 * release mark that decodes (it holds no address; its lease takes it); the controller refuses
 * the others too (admit.ts), e.g. a claim's address spelt otherwise, a second key of it.
 */
export function ipamKeyProblem(ipam: IpamKeys, key: string, value: string): string | undefined {
  if (!ipam.parseReleaseMark(key)) return `${key}: the key is not an IPAM claim (ipam/<type>/<pool>/<space>/<address>, 010.076.001.084) of xnet's layout`;
  const m = decodeReleaseMark(value);
  return 'error' in m ? `${key}: ${m.error}` : undefined;
}
