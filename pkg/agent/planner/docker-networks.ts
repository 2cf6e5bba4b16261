// Docker networks: create what is missing, recreate xnet's own networks whose settings
// drifted while nothing is attached, remove xnet's networks no longer wanted.
import type { DockerNetwork, DockerNetworkSpec } from '../../docker/types.js';
import { holderOf, labelledFor, type OwnerKind } from './owner.js';
import type { Op, Plan, Problem } from './ops.js';

/** Options Docker treats as set to these values when absent (a hand-made network omits them). */
const DOCKER_DEFAULTS: Record<string, string> = {
  'com.docker.network.bridge.enable_icc': 'true',
  'com.docker.network.bridge.enable_ip_masquerade': 'true',
  macvlan_mode: 'bridge',
  // a network made before xnet declared the MTU on every network (desired.ts DEFAULT_CLUSTER_MTU)
  'com.docker.network.driver.mtu': '1500',
};

export function networkMatches(want: DockerNetworkSpec, have: DockerNetwork): string | undefined {
  if (have.driver !== want.driver) return `driver is ${have.driver}, want ${want.driver}`;
  if (have.subnet !== want.subnet) return `subnet is ${have.subnet || 'unset'}, want ${want.subnet}`;
  if (want.gateway && have.gateway !== want.gateway) return `gateway is ${have.gateway ?? 'unset'}, want ${want.gateway}`;
  if ((have.ipRange ?? '') !== (want.ipRange ?? '')) return `ip-range is ${have.ipRange ?? 'unset'}, want ${want.ipRange ?? 'unset'}`;
  if ((have.ipamDriver ?? 'default') !== (want.ipamDriver ?? 'default')) return `IPAM driver is ${have.ipamDriver ?? 'default'}, want ${want.ipamDriver ?? 'default'}`;
  for (const [k, v] of Object.entries(want.ipamOptions ?? {})) if (have.ipamOptions?.[k] !== v) return `IPAM option ${k} is ${have.ipamOptions?.[k] ?? 'unset'}, want ${v}`;
  for (const [k, v] of Object.entries(want.options)) {
    const got = have.options[k] ?? DOCKER_DEFAULTS[k];
    if (got !== v) return `option ${k} is ${have.options[k] ?? 'unset'}, want ${v}`;
  }
  return undefined;
}

/**
 * The containers that keep a network on the host: the running ones attached (the inspect's
 * endpoints) and the stopped ones that reference it (`stopped`, DockerClient stoppedContainersOn):
 * Docker removes a network with only stopped containers on it, and their `docker start` then
 * fails (network not found), so they count as attached.
 */
export const attachedCount = (n: DockerNetwork): number => n.containers + (n.stopped?.length ?? 0);

/** The stopped containers among them, named: "" when none. */
const stoppedNote = (n: DockerNetwork): string => (n.stopped?.length ? `, ${n.stopped.length} of them stopped (${n.stopped.join(', ')})` : '');

/**
 * Who keeps a network from being made again: the running containers attached, and the stopped
 * ones that reference it, which `docker start` would no longer find on a network made anew.
 */
function attachedWhy(have: DockerNetwork): string {
  const stopped = have.stopped ?? [];
  const n = have.containers + stopped.length;
  const why = 'a stopped container counts too: it would not start on a network made anew';
  // the remedy last, as every message here ends: a status that keeps only so much cuts the middle (controller/macvlan-agent.ts)
  if (!stopped.length) return `${n} container(s) are attached (${why}); disconnect them (docker network disconnect)`;
  return `${n} container(s) are attached, ${stopped.length} of them stopped (${stopped.join(', ')}: ${why}); disconnect them (docker network disconnect), or remove the stopped ones`;
}

/**
 * `ownerKind`: the kind of object the networks are made for. A network under a wanted name is
 * made again only when it is that object's (owner.ts holderOf: its label, the kind's driver);
 * one carrying another label, or that label on a network of another driver, is a conflict.
 * Removals are limited to networks labelled for an object of that kind (owner.ts labelledFor);
 * callers pass only those they know to be xnet's leftovers. `observed` must carry the
 * attached-container count of the networks named in `desired`.
 */
export function planDockerNetworks(desired: DockerNetworkSpec[], observed: DockerNetwork[], ownerKind: OwnerKind): Plan {
  const ops: Op[] = [];
  const problems: Problem[] = [];
  const byName = new Map(observed.map((n) => [n.name, n]));
  const wanted = new Set(desired.map((d) => d.name));
  for (const want of desired) {
    const have = byName.get(want.name);
    if (!have) { ops.push({ op: 'docker.network.create', spec: want }); continue; }
    const holder = holderOf(want, have, ownerKind);
    // another xnet object's network (its owner removes or remakes it) is no more ours than a user's
    if (holder !== 'own' && holder !== 'unlabelled') {
      problems.push({ reason: 'NetworkConflict', message: `Docker network ${want.name} exists and ${holder}; remove or rename it` });
      continue;
    }
    const diff = networkMatches(want, have);
    if (!diff) continue;
    if (holder === 'unlabelled') {
      problems.push({ reason: 'NetworkConflict', message: `Docker network ${want.name} exists and was not made by xnet (${diff}); remove or rename it` });
    } else if (attachedCount(have) > 0) {
      problems.push({ reason: 'NetworkInUse', message: `Docker network ${want.name} must be recreated (${diff}) but ${attachedWhy(have)}` });
    } else {
      ops.push({ op: 'docker.network.remove', name: want.name, id: have.id }, { op: 'docker.network.create', spec: want });
    }
  }
  for (const have of observed) {
    if (wanted.has(have.name) || labelledFor(have, ownerKind) === undefined) continue;
    if (attachedCount(have) > 0) {
      // a stopped container would never start again without it: it stays until they are removed too
      const ask = have.stopped?.length ? 'disconnect them (docker network disconnect), or remove the stopped ones' : 'it is removed once they leave';
      problems.push({ reason: 'NetworkInUse', message: `Docker network ${have.name} is no longer wanted but ${attachedCount(have)} container(s) are attached${stoppedNote(have)}; ${ask}` });
    } else {
      ops.push({ op: 'docker.network.remove', name: have.name, id: have.id });
    }
  }
  return { ops, problems };
}
