// What an xnet-agent is given: its node, its store and etcd client, where it reaches the host
// (netns, Docker) and the timings tests and benchmarks set (the defaults are the product's).
import type { Etcd3 } from 'etcd3';
import type { DockerTlsFiles } from '../docker/client.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';
import type { AgentDataplane } from './dataplane.js';

export interface AgentOptions {
  node: string;
  store: Store;
  /** etcd client for the agent's events (its own events subtree) */
  etcd?: Etcd3;
  /** the agent's hands on the host (default: the kernel and Docker of `netns`); the scale benchmark passes a recording one */
  dataplane?: AgentDataplane;
  prefix?: string;
  /** manage this named network namespace instead of the agent's own */
  netns?: string;
  dockerHost?: string;
  /** TLS files for a tcp:// dockerHost */
  dockerTls?: DockerTlsFiles;
  /** safety-net full resync (default 30 s) */
  resyncMs?: number;
  /** how long a routes pass the store asked for waits for more changes (default ROUTES_SETTLE_MS) */
  routesSettleMs?: number;
  heartbeatMs?: number;
  leaseTtlSec?: number;
  /**
   * Serve Docker's remote IPAM plugin under this name (socket <pluginDir>/<name>.sock) for
   * MacvlanNets with dockerIPAM xnet. The lab gives each host its own name: all lab dockerds
   * share one plugin directory.
   */
  ipamPlugin?: string;
  /** default /run/docker/plugins */
  pluginDir?: string;
  /** where the agent keeps its IPAM journal, the record of what it changed on parents and that of the Docker networks it made (default /var/lib/xnet/<node>) */
  stateDir?: string;
  /** how long an address this node's ARP probe marked external is held before it is probed again (default EXTERNAL_QUARANTINE_MS, 10 min, plus up to 20 % jitter; 0: never) */
  externalQuarantineMs?: number;
  /** how often a capability the kernel lacked is probed for again (default CAPABILITY_REPROBE_MS) */
  capabilityReprobeMs?: number;
  /** how long after xnet makes or removes a Docker network Docker's rule rewrites are its follow-up, no heal (default OWN_DOCKER_FOLLOW_UP_MS) */
  dockerFollowUpMs?: number;
  /** how long a never-Ready object's not-Ready condition of a reason a first apply passes through is a Normal event, not a Warning (settling.ts) */
  settleGraceMs?: number;
  /** a reconcile running longer than this makes the Node Ready=False AgentStuck (default 120 s) */
  workerBudgetMs?: number;
  /**
   * the first wait before Docker's event stream is opened again after a break (default
   * DOCKER_EVENTS_BACKOFF's 1 s, doubling to 5 s; one longer than 5 s is every wait): a test
   * holds open the window a restored dockerd opens, its API answering again and the agent not
   * hearing it yet
   */
  dockerEventsRetryMs?: number;
  /** event sources; all on by default (the heal benchmark turns them off for its baseline) */
  events?: { store?: boolean; docker?: boolean; kernel?: boolean };
  log?: Logger;
}
