// `xctl ipam check`'s reading of HostSubnet block claims against their ClusterNetwork's
// hostPrefix, as the controller's model reads them (controller/claim-index.ts): one kept where
// the controller keeps none (keys.ts pinnedBlockMisfit) holds its block, by no one known, and
// is named with the claims that do not decode.
import { judgedByHostPrefix, pinnedBlockMisfit, type BlockNetwork, type Claim } from './keys.js';

type BlockClaim = { key: string; claim: Claim; type: string; pool: string; space: string; ip: number; createRevision?: string };

/** `claims` split into those that fit their key and a line per misfit; `networkOf` undefined: not judged. */
export function splitMisfitBlockClaims<T extends BlockClaim>(claims: T[], networkOf: (cn: string) => BlockNetwork | undefined): { fit: T[]; misfits: string[] } {
  const fit: T[] = [];
  const misfits: string[] = [];
  for (const c of claims) {
    const cn = c.type === 'clusternetworks' && c.space === 'blocks' ? networkOf(c.pool) : undefined;
    const judged = cn && c.claim.cidr && judgedByHostPrefix(c.createRevision, cn.createRevision);
    const why = judged ? pinnedBlockMisfit(c.claim.role, c.claim.cidr!, c.ip, cn.hostPrefix) : undefined;
    if (why) misfits.push(`${c.key}: the claim does not decode: ${why}`);
    else fit.push(c);
  }
  return { fit, misfits };
}
