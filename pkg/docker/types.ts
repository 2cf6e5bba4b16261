// What the agent needs from Docker, independent of dockerode.
import { DataplaneError } from '../errors.js';

/** Networks xnet creates carry this label (value: "<Kind>/<name>"); xnet removes no other. */
export const OWNER_LABEL = 'io.xnet.owner';

export interface DockerNetworkSpec {
  name: string;
  driver: 'bridge' | 'macvlan';
  subnet: string;
  gateway?: string;
  ipRange?: string;
  /** IPAM driver (Docker's "default" when unset) and its options */
  ipamDriver?: string;
  ipamOptions?: Record<string, string>;
  /** driver options, e.g. com.docker.network.bridge.name, parent, macvlan_mode */
  options: Record<string, string>;
  labels: Record<string, string>;
}

export interface DockerNetwork extends DockerNetworkSpec {
  id: string;
  /** every subnet of its IPAM config when it has more than one (subnet is the first; IPv6 ones too) */
  subnets?: string[];
  /** number of containers attached right now (running: only they hold an endpoint) */
  containers: number;
  /**
   * names of the stopped containers that reference the network, when read (DockerClient
   * stoppedContainersOn): they hold no endpoint, but `docker start` asks Docker for the network
   * by the id they were attached to, so a network made anew under the same name strands them
   */
  stopped?: string[];
  /** ids of the containers attached right now, when inspected (DockerClient inspectNetwork) */
  endpointIds?: string[];
}

/** One container attached to a Docker network, as `docker network inspect` shows it. */
export interface NetworkEndpoint {
  /** the container's ID, or `ep-<endpoint ID>` for an endpoint in no container's sandbox (detachedEndpoint) */
  container: string;
  name: string;
  /** IPv4 address without prefix; empty when Docker shows none */
  ip: string;
  /** the endpoint's MAC (lower case) as Docker shows it; empty when it shows none */
  mac?: string;
}

/**
 * Docker lists an endpoint that is in no container's sandbox (a container starting, before it
 * joins; stopping, after it left) under `ep-<endpoint ID>`, with the container's name: the
 * address is in use, but that key is no container (its inspect answers 404).
 */
export function detachedEndpoint(e: Pick<NetworkEndpoint, 'container'>): boolean {
  return e.container.startsWith('ep-');
}

export interface ContainerInfo {
  id: string;
  name: string;
  running: boolean;
  /** 0 when not running */
  pid: number;
  /**
   * State.StartedAt as Docker gives it ('' when it gives none): with the PID, what tells this
   * run of the container from the next (`docker restart` keeps the id).
   */
  startedAt: string;
  /** HostConfig.NetworkMode: "bridge", "host", "container:<id>", "none", a network name */
  networkMode?: string;
  /** HostConfig.RestartPolicy.Name: "", "no", "always", "unless-stopped", "on-failure" */
  restartPolicy?: string;
  /** per network, the IPv4 address asked for with --ip (EndpointSettings.IPAMConfig): Docker asks for it again at every start */
  pinnedIps?: Record<string, string>;
  /**
   * The networks the container is on (the names in NetworkSettings.Networks): a stopped or
   * restarting one still has its networks there, one taken off a network (docker network
   * disconnect) no longer has it. Undefined when Docker shows none.
   */
  networks?: string[];
}

export interface DockerEvent {
  type: 'container' | 'network' | string;
  action: string;
  /** container or network id */
  id: string;
  /** container name or network name, when Docker says */
  name?: string;
  /** for network connect/disconnect: the container */
  container?: string;
  timeNano: number;
}

export type DockerErrorReason = 'DockerUnavailable' | 'DockerRequestFailed' | 'NetworkInUse' | 'SubnetOverlap' | 'DockerTimedOut';

export class DockerError extends DataplaneError {
  declare readonly reason: DockerErrorReason;
  constructor(reason: DockerErrorReason, message: string) {
    super(reason, message, { retryable: reason === 'DockerUnavailable' || reason === 'DockerTimedOut' });
  }
}
