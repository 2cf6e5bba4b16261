// The Docker network a ClusterNetwork or MacvlanNet becomes on each host, and the names Docker
// keeps for itself. One owner: the validator (`xctl apply`) refuses a reserved name, given in
// spec.dockerNetwork or taken from metadata.name when that is not set, and the agent re-checks
// it before it asks Docker (ReservedDockerNetwork, for objects written around xctl), so a
// ClusterNetwork called `default` with no `dockerNetwork` is refused at apply instead of
// failing on every host for ever.
import type { FieldIssue } from './field-issue.js';

/** Docker's predefined networks; `docker network create` refuses these names. */
export const DOCKER_RESERVED_NETWORKS: readonly string[] = ['bridge', 'host', 'none', 'default'];

/** spec.dockerNetwork, else the object's name (the contract's default). */
export function dockerNetworkOf(o: { metadata: { name: string }; spec: { dockerNetwork?: string } }): string {
  return o.spec.dockerNetwork ?? o.metadata.name;
}

/** Why `name` cannot be an xnet Docker network, or undefined when it can. */
export function reservedDockerNetworkWhy(name: string): string | undefined {
  return DOCKER_RESERVED_NETWORKS.includes(name)
    ? `"${name}" is one of Docker's predefined networks (${DOCKER_RESERVED_NETWORKS.join(', ')}); set spec.dockerNetwork to another name`
    : undefined;
}

/**
 * A ClusterNetwork or MacvlanNet without spec.dockerNetwork whose name Docker keeps for itself
 * (`default`, the contract's example name, is the likely one): its Docker network could never
 * be made on any host. Named at metadata.name, the line the user wrote.
 */
export function derivedDockerNetworkIssues(o: { kind: string; metadata: { name: string }; spec?: unknown }): FieldIssue[] {
  if (o.kind !== 'ClusterNetwork' && o.kind !== 'MacvlanNet') return [];
  if ((o.spec as { dockerNetwork?: string } | undefined)?.dockerNetwork !== undefined) return [];
  const why = reservedDockerNetworkWhy(o.metadata.name);
  return why ? [{ path: ['metadata', 'name'], message: `also names the Docker network on every host when spec.dockerNetwork is not set, and ${why}` }] : [];
}
