// One HostSubnet's Docker bridge network, made or fixed, and its outcome in the HostSubnet's status.
import type { HostSubnet } from '../../api/index.js';
import { OWNER_LABEL, DockerError, type DockerNetwork, type DockerNetworkSpec } from '../../docker/types.js';
import { notReady, ready, type AgentContext } from '../context.js';
import { planDockerNetworks } from '../planner/docker-networks.js';
import { ApplyError } from '../dataplane.js';
import { nicKey } from '../events.js';
import { localNics } from './nics.js';
import { bridgeAlias } from '../planner/names.js';
import type { Op } from '../planner/ops.js';
import type { Link } from '../../netlink/types.js';

export const BRIDGE_OPTION = 'com.docker.network.bridge.name';

/**
 * Makes or fixes one HostSubnet's network and reports the outcome in its status. The bridge of
 * a network in place is marked as this HostSubnet's (NICs attach only to a marked bridge): one
 * Docker made just now, or one Docker made before the mark existed.
 */
export async function applyNetwork(ctx: AgentContext, hs: HostSubnet, spec: DockerNetworkSpec, owned: DockerNetwork[], links: Link[]): Promise<void> {
  const plan = planDockerNetworks([spec], owned.filter((n) => n.name === spec.name), 'HostSubnet');
  const bridge = spec.options[BRIDGE_OPTION];
  const mark = bridgeAlias(hs.metadata.name);
  const ops: Op[] = [...plan.ops];
  // xnet's own network on this bridge, also one waiting for its containers to leave (NetworkInUse):
  // its NICs stay converged and its bridge is marked
  const ours = !plan.problems.length || owned.some((n) => n.labels[OWNER_LABEL] === `HostSubnet/${hs.metadata.name}` && n.options[BRIDGE_OPTION] === bridge);
  const marking = ours && (plan.ops.length > 0 || links.find((l) => l.name === bridge)?.alias !== mark);
  if (marking) ops.push({ op: 'link.set.alias', name: bridge, alias: mark });
  try {
    if (ops.length) {
      ctx.log.info('host subnet network', { hostSubnet: hs.metadata.name, ops: ops.map((o) => o.op) });
      await ctx.dp.execute(ops);
    }
    // its NICs waited for the mark (BridgeNotReady): they go onto the bridge now
    if (marking) ctx.enqueue?.(localNics(ctx).filter((n) => n.spec.network.clusterNetwork === hs.spec.clusterNetwork).map((n) => nicKey(n.metadata.name)));
    const p = plan.problems[0];
    await ctx.status.write('HostSubnet', hs, {}, p ? notReady(p.reason, p.message)
      : ready(`Docker network ${spec.name} on bridge ${spec.options['com.docker.network.bridge.name']} is in place`));
  } catch (e) {
    const reason = e instanceof DockerError || e instanceof ApplyError ? e.reason : 'Failed';
    await ctx.status.write('HostSubnet', hs, {}, notReady(reason, (e as Error).message));
    throw e;
  }
}
