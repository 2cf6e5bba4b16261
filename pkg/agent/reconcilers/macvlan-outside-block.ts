// dockerIPAM blocks: what this node reports on its MacvlanNet of the addresses its containers
// hold outside its own Docker block (status `outsideBlock`, api/outside-block.ts). Docker's IPAM
// checks a `docker run --ip` only against this node's containers, so another node's block's
// address, a ContainerNic's or a shim's is accepted here and given twice on the segment; the
// controller names such a duplicate (controller/macvlan-conflicts.ts). Read in each pass over
// the MacvlanNet, which a container's connect, disconnect, start and destroy queue (Docker's
// events): the network's endpoints (running containers) and the static addresses of the
// containers that reference it, stopped ones included (they get them back at their next start).
import type { MacvlanNet } from '../../api/index.js';
import { outsideBlockFields, outsideOwnBlocks, type OutsideBlockEntry } from '../../api/outside-block.js';
import { MAX_REPORTED_NAME } from '../../api/ipam-report.js';
import type { AgentContext } from '../context.js';

/**
 * The report's fields for the containers on Docker network `network`, whose Docker hands out
 * `dockerRange` (its ip-range as Docker has it). When Docker does not answer, or the range is
 * not known, what was reported before: a failed read is no sign the containers left.
 */
export async function outsideBlockReport(ctx: AgentContext, m: MacvlanNet, network: string, dockerRange: string | undefined): Promise<Record<string, unknown>> {
  const ranges = dockerRange ? outsideOwnBlocks(m.spec.subnet, [dockerRange], m.spec.gateway) : undefined;
  if (!ranges) return keptOutsideBlock(ctx, m);
  let held: OutsideBlockEntry[];
  try {
    const [endpoints, statics] = await Promise.all([ctx.dp.docker.networkEndpoints(network), ctx.dp.docker.staticHoldersOn(network)]);
    held = [...(endpoints ?? []).map((e) => ({ ip: e.ip, ...(e.name ? { name: e.name } : {}) })), ...statics.map((s) => ({ ip: s.ip, ...(s.name ? { name: s.name } : {}) }))];
  } catch (e) {
    ctx.log.warn('could not read the containers on a MacvlanNet network; its report of the addresses they hold outside its block is kept', { macvlanNet: m.metadata.name, error: (e as Error).message });
    return keptOutsideBlock(ctx, m);
  }
  // Docker sets no limit on a name: clipped, so one long name does not make the report undecodable
  return { ...outsideBlockFields(ranges, held.map((h) => (h.name ? { ...h, name: h.name.slice(0, MAX_REPORTED_NAME) } : h))) };
}

/** What this node last reported of them (its own report, as written). */
export function keptOutsideBlock(ctx: AgentContext, m: MacvlanNet): Record<string, unknown> {
  const last = ctx.status.lastReported('MacvlanNet', m);
  return {
    ...(Array.isArray(last?.outsideBlock) && last.outsideBlock.length ? { outsideBlock: last.outsideBlock } : {}),
    ...(typeof last?.outsideBlockCount === 'number' ? { outsideBlockCount: last.outsideBlockCount } : {}),
  };
}
