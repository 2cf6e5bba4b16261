// Shapes shared by the lab's parts and by the tests that build on them.

/** One simulated host: a network namespace on the lab's underlay with its own Docker daemon. */
export interface LabHost {
  /** host-1, host-2... (also the xnet Node name the lab's agents use) */
  name: string;
  index: number;
  /** network namespace name, unique per lab: <labId>-host-<index> */
  netns: string;
  /** /var/run/netns/<netns> */
  netnsPath: string;
  /** underlay address of eth0, 198.18.0.(10+index) */
  address: string;
  prefixLength: number;
  /** underlay interface inside the namespace */
  iface: string;
  /** this host's files: Docker data/exec roots, socket, logs */
  dir: string;
  dockerSocket: string;
  /** unix://<dockerSocket>, for DOCKER_HOST and the agent's --docker-host */
  dockerHost: string;
}

/** A lab as its builder and its tests see it. */
export interface Lab {
  id: string;
  dir: string;
  /** namespace holding the underlay bridge */
  underlayNetns: string;
  bridge: string;
  /** 198.18.0.0/24 */
  subnet: string;
  /** the underlay bridge's own address, the hosts' default gateway */
  gateway: string;
}

/** A process the lab started, as recorded before and after it was spawned. */
export interface ProcessEntry {
  /** unique within the lab: dockerd/host-1, agent/host-2, controller/1, etcd */
  id: string;
  role: 'dockerd' | 'etcd' | 'controller' | 'agent' | 'other';
  host?: string;
  argv: string[];
  log: string;
  /** a pid file the program writes itself (dockerd), read when the pid was never recorded */
  pidfile?: string;
  pid?: number;
  /** /proc/<pid>/stat start time, so a recycled pid is never mistaken for ours */
  startTime?: number;
  /** http://127.0.0.1:PORT/metrics of a daemon started with --metrics-addr */
  metrics?: string;
  /** etcd's client and peer ports, so that `up` starts it again where the programs look for it */
  ports?: { client: number; peer: number };
}

/** Everything the lab made, written before each thing is made, so `down` can undo a crash. */
export interface LabRecord {
  version: 1;
  labId: string;
  dir: string;
  createdAt: string;
  underlay?: { netns: string; bridge: string; subnet: string; gateway: string };
  /** namespaces, in the order they were made */
  netns: string[];
  hosts: LabHost[];
  processes: ProcessEntry[];
  /** Docker --cgroup-parent of each host: where its containers' processes live */
  cgroupParents: string[];
  /** etcd endpoints later `xctl` commands use (a local etcd's, or the ones given to `up`) */
  endpoints?: string[];
  /** the agents' --resync in seconds when not the default (tests push it beyond their waits) */
  agentResyncS?: number;
  /** TLS and auth of the lab's own etcd (absent when `up` was given existing endpoints) */
  auth?: LabAuth;
  /** true once `up` finished; status says "partial" otherwise */
  complete?: boolean;
}

/** A certificate and key (PEM file paths). */
export interface LabIdentity {
  cert: string;
  key: string;
}

/** The lab's CA directory and the identities of its control plane; hosts' are issued per host. */
export interface LabAuth {
  caDir: string;
  /** the CA certificate clients verify etcd with */
  ca: string;
  root: LabIdentity;
  controller: LabIdentity;
  /** what xctl uses against the lab */
  admin: LabIdentity;
}
