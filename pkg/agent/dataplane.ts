// The agent's hands and eyes: reads of the observed state and execution of planned ops, for
// one managed host (a namespace) and the containers on it. Everything else is pure.
import { DockerClient, type DockerTlsFiles } from '../docker/client.js';
import { DockerError, OWNER_LABEL, type DockerNetwork } from '../docker/types.js';
import { IpBatchArgumentError, IpBatchError, IpRunner, type HostState, type HostUse, type IpLine } from '../netlink/ip.js';
import { Iptables, IptablesInputError, readSysctl, writeSysctls } from '../netlink/iptables.js';
import { CommandError } from '../netlink/exec.js';
import type { Route } from '../netlink/types.js';
import { netnsPath, pinnedTarget, type NetTarget } from '../netlink/target.js';
import { pinNetns as pinProcessNetns, type PinnedNetns } from '../netlink/pinned.js';
import { stat } from 'node:fs/promises';
import { ipLine, steps, type ContainerNs, type IpOp, type Op } from './planner/ops.js';
import type { ContainerState } from './planner/nic.js';
import type { ForeignNetwork, ObservedNat } from './planner/nat.js';
import { labelledFor } from './planner/owner.js';
import { DataplaneError } from '../errors.js';
import { countOps, opsApplied } from './heal.js';
import { detectUnderlay, probeCapabilities, type Underlay } from './node.js';
import { removeMarkedNicLinks, removeStaleNicLinks, type StaleNicLink } from './stale-nic.js';
import { HostReads, type HostChanges } from './host-reads.js';
import { NatReads, type NatChanges } from './nat-reads.js';

/** A failed operation, with a reason a user can act on (it becomes the Ready reason). */
export class ApplyError extends DataplaneError {}

/** The condition reason of a failed host command the dataplane ran for `op` (docs/api.md). */
/** Where a container's ops and reads run: the namespace file the agent pinned, never its PID. */
export function containerTarget(ns: ContainerNs): NetTarget {
  return pinnedTarget(ns.path, ns.pid);
}

export function commandFailureReason(op: string, e: CommandError): 'CommandTimedOut' | 'SysctlFailed' | 'IptablesFailed' {
  if (e.reason === 'CommandTimedOut') return 'CommandTimedOut';
  return op === 'sysctl.set' ? 'SysctlFailed' : 'IptablesFailed';
}

/**
 * What execute() found beyond the ops' success: the Docker networks (ids) that a
 * `docker.network.remove` found gone already (404). It removed nothing, and the name is not
 * known to be free: a network made under it since (a user's) is still there.
 */
export interface Executed { goneAlready: string[] }

/**
 * What the agent needs of a host: reads of the observed state and execution of planned ops.
 * Dataplane below is the real one; the scale benchmark runs agents on a recording one.
 */
export interface AgentDataplane {
  readonly target: NetTarget;
  /** execute() only records the ops (verify): there is no change to read back */
  readonly dryRun?: boolean;
  readonly ip: Pick<IpRunner, 'routes' | 'links' | 'addrs' | 'linksAndAddrs'>;
  /** what the host's reads are kept by until told of a change (host-reads.ts); none: every read is the kernel's */
  readonly hostChanges?: HostChanges;
  /** what the NAT pass's reads are kept by until told of a change (nat-reads.ts); none: every read is the kernel's */
  readonly natChanges?: NatChanges;
  readonly docker: Pick<DockerClient, 'events' | 'inspectContainer' | 'runningContainers' | 'networkEndpoints' | 'staticAddressesOn' | 'staticHoldersOn' | 'inspectNetwork' | 'disconnect' | 'connect' | 'listNetworks' | 'ping'>;
  /** `pinned`: the Node's spec.interface, whose presence on the host it reports too */
  underlay(pinned?: string): Promise<Underlay>;
  /** opens the network namespace process `pid` is in now (netlink/pinned.ts); the caller closes it */
  pinNetns(pid: number): Promise<PinnedNetns>;
  /** is the pinned namespace the managed host's own? */
  inHostNetns(ns: Pick<PinnedNetns, 'dev' | 'ino'>): Promise<boolean>;
  capabilities(iface: string | undefined): Promise<Record<string, boolean>>;
  hostState(): Promise<HostState>;
  /** every address and route of the host (all families, all tables): read only before a parent is released */
  hostUse(): Promise<HostUse>;
  /** `routes: false`: links and addresses only (one `ip` process, not two) */
  containerState(target: NetTarget, opts?: { routes?: boolean }): Promise<ContainerState>;
  /** the container's IPv4 routes (main table) alone: one `ip` process */
  containerRoutes(target: NetTarget): Promise<Route[]>;
  natState(): Promise<ObservedNat>;
  dockerNetworks(names: string[]): Promise<DockerNetwork[]>;
  /** nothing returned: every op did what it says (a dry run, or a stand-in) */
  execute(ops: Op[], opts?: { independent?: boolean }): Promise<Executed | void>;
  /** deletes NIC `nic`'s marked links with `mac` in namespaces other than the container's (the file `netns`) and the host's */
  removeStaleNicLinks?(nic: string, mac: string, netns: string, parent: string): Promise<StaleNicLink[]>;
  /** deletes the links marked as these NICs' in the namespace at `netns` (a dead container's) */
  removeNicLinksIn?(netns: string, nics: string[]): Promise<StaleNicLink[]>;
}

export class Dataplane implements AgentDataplane {
  /** the host's reads, kept between changes */
  readonly ip: HostReads;
  readonly hostChanges: HostChanges;
  /** the NAT pass's reads (iptables, ip_forward), kept between changes */
  readonly nat: NatReads;
  readonly natChanges: NatChanges;
  /** the host's `ip`: its writes and the reads that are not kept */
  private readonly runner: IpRunner;
  readonly iptables: Iptables;
  readonly docker: DockerClient;

  constructor(readonly target: NetTarget, dockerHost?: string, dockerTls?: DockerTlsFiles) {
    this.runner = new IpRunner(target);
    this.ip = new HostReads(this.runner);
    this.hostChanges = this.ip;
    this.iptables = new Iptables(target);
    this.nat = new NatReads((table) => this.iptables.save(table), () => readSysctl(target, 'net.ipv4.ip_forward'));
    this.natChanges = this.nat;
    this.docker = new DockerClient(dockerHost, dockerTls);
  }

  pinNetns(pid: number): Promise<PinnedNetns> {
    return pinProcessNetns(pid);
  }

  /** Is the pinned namespace the managed host's own? */
  async inHostNetns(ns: Pick<PinnedNetns, 'dev' | 'ino'>): Promise<boolean> {
    const host = await stat(netnsPath(this.target));
    return host.ino === ns.ino && host.dev === ns.dev;
  }

  /**
   * A restarted container's previous namespace, kept alive (a process, a bind mount), holds the
   * NIC's old macvlan of `parent` and with it the MAC (stale-nic.ts).
   */
  async removeStaleNicLinks(nic: string, mac: string, netns: string, parent: string): Promise<StaleNicLink[]> {
    const lower = (await this.ip.links()).find((l) => l.name === parent);
    if (!lower) return [];
    const hostName = this.target.kind === 'netns' ? this.target.name : undefined;
    try {
      return await removeStaleNicLinks(nic, mac, lower.ifindex, [netns, netnsPath(this.target), '/proc/self/ns/net'], hostName);
    } finally { this.ip.changed(); }
  }

  removeNicLinksIn(netns: string, nics: string[]): Promise<StaleNicLink[]> {
    return removeMarkedNicLinks(netns, nics);
  }

  underlay(pinned?: string): Promise<Underlay> {
    return detectUnderlay(this.runner, pinned);
  }

  capabilities(iface: string | undefined): Promise<Record<string, boolean>> {
    return probeCapabilities(this.runner, iface);
  }

  hostState(): Promise<HostState> {
    return this.ip.state();
  }

  hostUse(): Promise<HostUse> {
    return this.runner.use();
  }

  async containerState(target: NetTarget, opts: { routes?: boolean } = {}): Promise<ContainerState> {
    const ip = new IpRunner(target);
    if (opts.routes !== false) return ip.state();
    return { ...await ip.linksAndAddrs(), routes: [] };
  }

  containerRoutes(target: NetTarget): Promise<Route[]> {
    return new IpRunner(target).routes();
  }

  async natState(): Promise<ObservedNat> {
    const [{ nat, filter }, ipForward, dockerNetworks] = await Promise.all([this.nat.tables(), this.nat.ipForward(), this.foreignNetworks()]);
    return { nat, filter, ipForward, dockerNetworks };
  }

  private readonly foreign = new ForeignNetworks(() => this.docker.listNetworks());
  private foreignNetworks(): Promise<ForeignNetwork[] | undefined> { return this.foreign.get(); }

  /**
   * Docker networks named in `names` or labelled as xnet's, with attached-container counts
   * (the list call does not carry them, so those few are inspected) and the stopped containers
   * that reference them (a network made anew, or removed, would strand those).
   */
  async dockerNetworks(names: string[]): Promise<DockerNetwork[]> {
    const all = await this.docker.listNetworks();
    const want = new Set(names);
    const mine = all.filter((n) => want.has(n.name) || n.labels[OWNER_LABEL]);
    const full = await Promise.all(mine.map(async (n) => {
      const net = await this.docker.inspectNetwork(n.id);
      if (!net) return undefined;
      // a network asked for is made again, a stale one removed, only once no container is on it,
      // stopped ones included: Docker lets either go under them, and they would not start again
      const stopped = await this.docker.stoppedContainersOn(net.id, new Set(net.endpointIds));
      return stopped.length ? { ...net, stopped } : net;
    }));
    return full.filter((n): n is DockerNetwork => !!n);
  }

  /**
   * Runs the ops in order; consecutive `ip` ops of one namespace go in one batch. With
   * `independent`, a failing `ip` line does not stop the others of its batch.
   */
  async execute(ops: Op[], opts: { independent?: boolean } = {}): Promise<Executed> {
    countOps(ops.length);
    try {
      return await this.executeSteps(ops, opts);
    } finally {
      // what was kept of the host is not read again before the monitors tell of these changes
      // (a Docker network made or removed brings or takes Docker's iptables rules too)
      if (ops.length) { this.ip.changed(); this.nat.changed(); }
    }
  }

  private async executeSteps(ops: Op[], opts: { independent?: boolean }): Promise<Executed> {
    const goneAlready: string[] = [];
    for (const step of steps(ops)) {
      if (step.kind === 'ip') { await this.runIp(step.netns, step.ops, !!opts.independent); continue; }
      const o = step.op;
      try {
        switch (o.op) {
          case 'docker.network.create': await this.docker.createNetwork(o.spec); break;
          // by the id judged: a network made under the name since is not removed (one gone: 404, done)
          case 'docker.network.remove': if (!await this.docker.removeNetwork(o.id, o.name)) goneAlready.push(o.id); break;
          case 'iptables.restore': await this.iptables.restore(o.table, o.lines); break;
          case 'sysctl.set': await writeSysctls(o.netns === undefined ? this.target : containerTarget(o.netns), o.values); break;
        }
      } catch (e) {
        if (e instanceof CommandError) throw new ApplyError(commandFailureReason(o.op, e), e.message);
        if (e instanceof IptablesInputError) throw new ApplyError(e.reason, e.message);
        throw e;
      }
    }
    opsApplied();
    return { goneAlready };
  }

  private async runIp(netns: ContainerNs | undefined, group: IpOp[], independent: boolean): Promise<void> {
    const runner = netns === undefined ? this.runner : new IpRunner(containerTarget(netns));
    const lines: IpLine[] = group.map(ipLine);
    try {
      await runner.batch(lines, { force: independent });
    } catch (e) {
      if (e instanceof IpBatchArgumentError) throw new ApplyError(e.reason, e.message);
      if (!(e instanceof IpBatchError)) throw e;
      if (independent && e.failedLines.length > 1) {
        const shown = e.failedLines.slice(0, 3).map((i) => `"${lines[i].join(' ')}"`).join(', ');
        throw new ApplyError('KernelRefused', `${e.failedLines.length} of ${lines.length} changes failed (${shown}${e.failedLines.length > 3 ? ', ...' : ''}): ${e.stderr.trim().split('\n')[0]}`);
      }
      const failed = e.line ? group[lines.indexOf(e.line)] : undefined;
      if (failed?.op === 'link.add.vlan' && /Unknown device type|not supported/i.test(e.stderr)) {
        throw new ApplyError('VlanUnsupported', `the kernel cannot make VLAN interface ${failed.name} (no 802.1Q support): ${e.stderr.trim()}`);
      }
      if ((failed?.op === 'link.set.mac' || failed?.op === 'link.set.up') && /Address already in use/i.test(e.stderr)) {
        // macvlans of one parent need distinct MACs, wherever they live (e.g. a restarted
        // container's previous namespace, until it is gone): retried with backoff
        throw new ApplyError('MacAddressInUse', `${e.message} (another macvlan on the same parent has this MAC)`);
      }
      if (e.reason === 'CommandTimedOut') throw new ApplyError('CommandTimedOut', e.message);
      if (e.reason === 'NamespaceGone') throw new ApplyError('ContainerNotRunning', `the container's network namespace went away: ${e.stderr.trim()}`);
      throw new ApplyError('KernelRefused', e.message);
    }
  }
}

/** How long the NAT pass waits for Docker's network list before it uses the last one. */
export const FOREIGN_WAIT_MS = 2_000;

/**
 * Docker's bridge networks, for the NAT pass (foreignNetworksOf). While Docker does not answer (refused,
 * or not within `waitMs`: a hung daemon's request lasts 30 s), the last ones read, or undefined
 * before any: the cluster's rules (a firewall reload wipes them) do not wait for Docker, and
 * Docker's network events ask for the rules again once it answers. One request at a time.
 */
export class ForeignNetworks {
  private last?: ForeignNetwork[];
  private inFlight?: Promise<void>;

  constructor(private readonly list: () => Promise<DockerNetwork[]>, private readonly waitMs = FOREIGN_WAIT_MS) {}

  async get(): Promise<ForeignNetwork[] | undefined> {
    this.inFlight ??= this.list()
      .then((nets) => { this.last = foreignNetworksOf(nets); }, (e) => { if (!(e instanceof DockerError)) throw e; })
      .finally(() => { this.inFlight = undefined; });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => { timer = setTimeout(r, this.waitMs); });
    try { await Promise.race([this.inFlight, late]); } finally { clearTimeout(timer); }
    return this.last;
  }
}

/**
 * Docker's bridge networks, by bridge (Docker names one it was not told `br-<id[:12]>`) and each
 * IPv4 subnet, with the HostSubnet their owner label names (owner.ts): the NAT planner leaves
 * those of HostSubnets this node serves to xnet's rules and returns the rest to Docker's chains
 * (a label alone is anyone's to write).
 */
export function foreignNetworksOf(networks: DockerNetwork[]): ForeignNetwork[] {
  return networks
    .filter((n) => n.driver === 'bridge')
    .flatMap((n) => {
      const hostSubnet = labelledFor(n, 'HostSubnet');
      return (n.subnets ?? [n.subnet]).filter((c) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c))
        .map((subnet) => ({ bridge: n.options['com.docker.network.bridge.name'] || `br-${n.id.slice(0, 12)}`, subnet, ...(hostSubnet ? { hostSubnet } : {}) }));
    });
}
