// The bridge a HostSubnet gets on its node: unique among every HostSubnet of that node, whatever
// their ClusterNetworks. An explicit spec.bridge is honoured unless an older object holds it
// (then the HostSubnet is refused with BridgeConflict); a derived name moves on to a fallback
// when another HostSubnet of the node holds it, and keeps what it was given while that is free.
import type { ClusterNetwork, HostSubnet } from '../api/index.js';
import {
  bridgePrefixRank, defaultBridgeName, hashedBridgeName, hostLinkBridgeWhy, nameLosers, type NameClaim,
} from '../api/names.js';
import { AllocationError, subnetSlot, type HostSubnetLayout } from '../ipam/plan.js';
import type { Ctx } from './context.js';
import type { Entry } from './model.js';

/** The bridge each other HostSubnet of the node holds (its controller status, else its spec). */
function otherClaims(ctx: Ctx, hs: HostSubnet): NameClaim<HostSubnet>[] {
  const out: NameClaim<HostSubnet>[] = [];
  for (const o of ctx.model.hostSubnetsOnNode(hs.spec.node)) {
    if (o.obj.metadata.name === hs.metadata.name) continue;
    const name = o.obj.spec.bridge ?? ctx.model.controllerStatus('HostSubnet', o.obj.metadata.name)?.status.bridge;
    if (typeof name === 'string') out.push({ name, owner: o.obj, explicit: o.obj.spec.bridge !== undefined, label: `HostSubnet "${o.obj.metadata.name}"` });
  }
  return out;
}

/** The claim that keeps `name` from `hs`, or undefined when `hs` may have it. */
function holderOf(hs: HostSubnet, name: string, explicit: boolean, others: NameClaim<HostSubnet>[]): NameClaim<HostSubnet> | undefined {
  const mine: NameClaim<HostSubnet> = { name, owner: hs, explicit, label: `HostSubnet "${hs.metadata.name}"` };
  return nameLosers([mine, ...others.filter((o) => o.name === name)]).get(mine);
}

/** Sets layout.bridge to the name this HostSubnet may have; throws BridgeConflict for a refused explicit one. */
export function settleBridge(ctx: Ctx, hs: HostSubnet, cn: Entry<ClusterNetwork>, layout: HostSubnetLayout): void {
  const others = otherClaims(ctx, hs);
  if (hs.spec.bridge !== undefined) {
    const why = hostLinkBridgeWhy(hs.spec.bridge);
    const holder = holderOf(hs, hs.spec.bridge, true, others);
    if (why || holder) {
      throw new AllocationError('BridgeConflict', `bridge ${hs.spec.bridge}: ${why ?? `${holder!.label} on node ${hs.spec.node} already uses it`}`);
    }
    return;
  }
  const prev = ctx.model.controllerStatus('HostSubnet', hs.metadata.name)?.status;
  const rank = bridgePrefixRank(cn.obj, [...ctx.model.objects<ClusterNetwork>('ClusterNetwork')].map((e) => e.obj));
  const candidates = [
    ...(prev?.subnet === layout.subnet && typeof prev?.bridge === 'string' ? [prev.bridge] : []),
    defaultBridgeName(cn.obj.spec.bridgePrefix ?? 'br', subnetSlot(cn.obj.spec, layout.subnet), rank),
    hashedBridgeName(hs.metadata.name),
  ];
  const free = candidates.find((n) => !hostLinkBridgeWhy(n) && !holderOf(hs, n, false, others));
  if (!free) throw new AllocationError('BridgeConflict', `no free bridge name on node ${hs.spec.node}: ${candidates.join(', ')} are taken`);
  layout.bridge = free;
}
