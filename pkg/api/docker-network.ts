// The Docker network a ClusterNetwork or MacvlanNet becomes on each host, and the names Docker
// keeps for itself. One owner: the validator (`xctl apply`) refuses a reserved name and the
// agent re-checks it before it asks Docker, so a ClusterNetwork called `default` with no
// `dockerNetwork` is refused at apply instead of failing on every host for ever.

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
