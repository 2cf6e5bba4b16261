// Where a ContainerNic's address comes from (its target): on a ClusterNetwork, the xnet part of
// the HostSubnet its node offers it (chosen once per round state and node, and written into the
// NIC's status for the agent); on a MacvlanNet, the MacvlanNet's range minus its nodes' Docker
// blocks. nics.ts picks or checks the address inside it.
import type { ContainerNic, HostSubnet } from '../api/index.js';
import { parseCidr, parseIPv4 } from '../ip/ipv4.js';
import { AllocationError, hostSubnetXnetRange, macvlanAddressRange } from '../ipam/plan.js';
import { contains, cidrInterval, type Interval } from '../ipam/ranges.js';
import type { TxnPlan } from './txn-plan.js';
import type { RawKv } from '../runtime/kv.js';
import type { RoundState } from './pool-executor.js';
import type { Entry, ClaimEntry } from './model.js';
import type { Ctx, Status } from './context.js';
import { missingNetwork } from './node-missing.js';
import { olderFirst } from '../api/names.js';
import { noHostSubnetWhy, offersAddresses } from './hostsubnet-deleting-nics.js';
import { macvlanRangeText } from './macvlan-exhausted.js';
import { MissingNetworkError, WaitingError } from './nic-errors.js';

export interface Target {
  ranges: Interval[];
  prefixLength: number;
  gateway?: string;
  /** the HostSubnet whose bridge the NIC goes on (ClusterNetwork NICs): the controller's choice, the agent's input; and its node */
  hostSubnet?: string;
  node?: string;
  /** what the NIC's address range is called in messages */
  describe: string;
  /** the round-state id of the addresses this target hands out (a HostSubnet's are its own) */
  roundId: string;
}

/**
 * The HostSubnet and xnet part of it that this NIC's node offers; guards the plan on it. The
 * choice is written into the NIC's status (hostSubnet) so that the agent puts the veth on that
 * HostSubnet's bridge instead of choosing again. Worked out once per round state and node
 * (pinned to the status it was made from); a pinned spec.ip chooses for itself.
 */
export function clusterTarget(ctx: Ctx, nic: ContainerNic, plan: TxnPlan, state: RoundState, held: ClaimEntry[]): Target {
  const cnName = nic.spec.network.clusterNetwork!;
  // network -> node -> choice: looked up by the strings the NIC holds, none built per NIC
  let memo = state.get('targets') as Map<string, Map<string, TargetChoice>> | undefined;
  if (!memo) state.set('targets', (memo = new Map()));
  let byNode = memo.get(cnName);
  if (!byNode) memo.set(cnName, (byNode = new Map()));
  const space = ctx.model.ipam.space('clusternetworks', cnName, 'addresses');
  const mine = held.find((c) => c.key.startsWith(space))?.ip;
  let chosen = nic.spec.ip ? offeredChoice(ctx, nic, mine) : byNode.get(nic.spec.node);
  if (chosen && !nic.spec.ip && ctx.model.cache.get(chosen.hsKey) !== chosen.hsKv) chosen = undefined;
  if (!chosen && !nic.spec.ip && (chosen = offeredChoice(ctx, nic))) byNode.set(nic.spec.node, chosen);
  // A NIC that holds an address in another of its node's HostSubnets stays there (a HostSubnet
  // added later that sorts first must not move every NIC of the node), also in one being deleted.
  if (!nic.spec.ip && mine !== undefined && !(chosen && contains(chosen.target.ranges, mine))) chosen = offeredChoice(ctx, nic, mine);
  if (!chosen) throw new WaitingError('WaitingForHostSubnet', noHostSubnetWhy(ctx.model, ctx.model.clusterNetwork(cnName)!.obj, nic.spec.node));
  // The status the choice was made from: the round state outlives a round in flight, and a
  // HostSubnet status changed since then fails this compare instead of passing with the new one.
  plan.unchanged(chosen.statusKey, chosen.statusKv);
  return chosen.target;
}

/** hsKey/hsKv: the HostSubnet as cached when chosen (a memo of one changed since, e.g. marked deleting, is chosen again) */
interface TargetChoice { target: Target; statusKey: string; statusKv: RawKv; hsKey: string; hsKv: RawKv }

/** The HostSubnet of the NIC's node that offers it an address (holds: the address it has on the network), or undefined: none. */
function offeredChoice(ctx: Ctx, nic: ContainerNic, holds?: number): TargetChoice | undefined {
  const cnName = nic.spec.network.clusterNetwork!;
  if (!ctx.model.clusterNetwork(cnName)) throw new MissingNetworkError(missingNetwork(ctx.model, 'ClusterNetwork', cnName));
  const candidates: Array<{ hs: Entry<HostSubnet>; st: Status; kv: RawKv }> = [];
  // older first, as the node's agent, which acts on the older of two (agent/names.ts)
  for (const hs of ctx.model.hostSubnetsOf(cnName, nic.spec.node).sort((a, b) => olderFirst(a.obj, b.obj))) {
    const st = ctx.model.controllerStatus('HostSubnet', hs.obj.metadata.name);
    if (st?.status.subnet && st.status.gateway && st.status.dockerRange && offersAddresses(hs.obj, st.status.subnet as string, holds)) candidates.push({ hs, st: st.status, kv: st.kv });
  }
  if (!candidates.length) return undefined;
  const want = nic.spec.ip ? parseIPv4(nic.spec.ip) : holds;
  const pick = (want !== undefined && candidates.find((c) => contains([cidrInterval(parseCidr(c.st.subnet as string))], want))) || candidates[0];
  const layout = { subnet: pick.st.subnet as string, gateway: pick.st.gateway as string, dockerRange: pick.st.dockerRange as string };
  const hsName = pick.hs.obj.metadata.name;
  return {
    statusKey: ctx.model.keys.status('HostSubnet', hsName, { controller: true }),
    statusKv: pick.kv,
    hsKey: ctx.model.keys.object('HostSubnet', hsName), hsKv: pick.hs.kv,
    target: {
      ranges: hostSubnetXnetRange(layout),
      prefixLength: parseCidr(layout.subnet).prefix,
      gateway: layout.gateway,
      hostSubnet: hsName,
      node: pick.hs.obj.spec.node,
      describe: `the xnet part of HostSubnet "${hsName}" (${layout.subnet} minus Docker's ${layout.dockerRange} and the gateway)`,
      roundId: `clusternetworks/${cnName}@${hsName}`,
    },
  };
}

function blockIntervals(ctx: Ctx, mvn: string): Interval[] {
  return [...ctx.model.claimsIn('macvlannets', mvn, 'blocks').values()].map((c) => cidrInterval(parseCidr(c.claim.cidr!)));
}

export function macvlanTarget(ctx: Ctx, nic: ContainerNic, plan: TxnPlan, state: RoundState): Target {
  const name = nic.spec.network.macvlanNet!;
  const m = ctx.model.macvlanNet(name);
  if (!m) throw new MissingNetworkError(missingNetwork(ctx.model, 'MacvlanNet', name));
  if (m.obj.metadata.deletionTimestamp) throw new AllocationError('InvalidSpec', `MacvlanNet "${name}" is being deleted`);
  plan.unchanged(ctx.model.keys.object('MacvlanNet', name), m.kv);
  return {
    // Blocks claimed earlier in this same round are not in the cache yet.
    ranges: macvlanAddressRange(m.obj.spec, [...blockIntervals(ctx, name), ...((state.get(`mvn/${name}`) as { blocks: Interval[] } | undefined)?.blocks ?? [])]),
    prefixLength: parseCidr(m.obj.spec.subnet).prefix,
    gateway: m.obj.spec.gateway,
    describe: macvlanRangeText(m.obj),
    // shared with the MacvlanNet's own shim addresses planned in the same round (macvlan.ts)
    roundId: `macvlannets/${name}`,
  };
}
