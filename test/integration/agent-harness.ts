// Shared set-up of the agent's integration tests: a real etcd, a lab of N namespace hosts each
// with its own dockerd and the busybox image, a store, and helpers to run agents and to stand
// in for the controller. Everything it makes is removed by down(), also after failures.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { tlsArgs } from '../../pkg/auth/bootstrap.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import type { Store } from '../../pkg/store/types.js';
import type { Identity } from '../../pkg/auth/pki.js';
import { createUnderlay, createHost, startDockerd, ensureBusyboxImage, destroyLab, hostDocker, hostExec, BUSYBOX_IMAGE, type LabHost } from '../../pkg/lab/index.js';
import { Agent, type AgentOptions } from '../../pkg/agent/agent.js';
import { labIpamPlugin } from '../../pkg/lab/services.js';
import { getCondition, isReady, type Condition, type Kind, type MacvlanNet } from '../../pkg/api/index.js';
import { createLogger } from '../../pkg/log.js';
import { Controller } from '../../pkg/controller/controller.js';
import { HEAL_TEST_RESYNC_S, type ExecResult } from '../harness/heal.js';
import { workerCacheDir } from '../harness/worker-cache.js';
import { useBuilt } from '../harness/built.js';
import { eventually, obj } from './helpers.js';
import { runXctl } from '../../pkg/cli/program.js';
import { run } from '../../pkg/lab/run.js';
import { hostEnv } from '../../pkg/lab/exec.js';
import { containerPid, dockerViaApi, DockerApiRefusal } from './docker-calls.js';

export { eventually, obj };

export interface AgentLab {
  etcd: TestEtcd;
  client: Etcd3;
  store: Store;
  hosts: LabHost[];
  dir: string;
  agents: Map<string, Agent>;
  startAgent(h: LabHost, opts?: Partial<AgentOptions>): Promise<Agent>;
  stopAgent(h: LabHost): Promise<void>;
  /** node-<name>'s certificate and etcd user; its Node too unless the controller makes Nodes */
  admitNode(name: string): Promise<Identity>;
  /** --endpoints and --cacert/--cert/--key of node-<name>, for an xnet-agent the test starts */
  agentArgs(name: string): Promise<string[]>;
  /** a client as the controller's identity (xnet-controller) */
  controllerClient(): Etcd3;
  down(): Promise<void>;
}

export interface AgentLabOptions {
  docker?: boolean;
  /**
   * Who makes each host's Node object. 'harness' (default): the test, standing in for the
   * controller that does not run, before the agent starts. 'controller': nobody but the
   * controller the test runs (a host joins by its agent's report alone).
   */
  nodes?: 'harness' | 'controller';
}

/**
 * etcd runs with TLS and auth (roles of pkg/auth/roles.ts): each agent runs with its node's
 * certificate (node-<name>), so it can write only its own keys. `client` and `store` are
 * etcd's root: the test stands in for the admin and the controller.
 */
export async function agentLab(n: number, opts: AgentLabOptions = {}): Promise<AgentLab> {
  const id = `ag${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `xnet-${id}-`));
  const etcd = await startEtcd({ auth: true });
  const auth = etcd.auth!;
  const client = etcd.client();
  const store = createEtcdStore(client, '/xnet');
  const agents = new Map<string, Agent>();
  const hosts: LabHost[] = [];
  const lab: AgentLab = {
    etcd, client, store, hosts, dir, agents,
    async admitNode(name) {
      const nodeId = await auth.addNode(name);
      if (opts.nodes !== 'controller' && !(await store.get('Node', name))) await store.create(obj('Node', name, {}));
      return nodeId;
    },
    async agentArgs(name) {
      return ['--endpoints', etcd.endpoints.join(','), ...tlsArgs(auth.ids.ca.caCert, await lab.admitNode(name))];
    },
    controllerClient: () => auth.clientAs(auth.ids.controller),
    async startAgent(h, o = {}) {
      const nodeClient = auth.clientAs(await lab.admitNode(h.name));
      // The periodic resync is pushed out of every test's reach: what heals, heals by events.
      const a = new Agent({
        node: h.name, store: createEtcdStore(nodeClient, '/xnet'), etcd: nodeClient, netns: h.netns, dockerHost: h.dockerHost, resyncMs: HEAL_TEST_RESYNC_S * 1000,
        ipamPlugin: labIpamPlugin(h), stateDir: h.dir,
        log: createLogger('agent', { node: h.name }), ...o,
      });
      agents.set(h.name, a);
      await a.start();
      await a.firstPass;
      return a;
    },
    async stopAgent(h) {
      await agents.get(h.name)?.stop();
      agents.delete(h.name);
    },
    async down() {
      for (const a of agents.values()) await a.stop().catch(() => undefined);
      await store.close().catch(() => undefined);
      await destroyLab(dir).catch((e) => console.error('lab down:', e));
      await etcd.stop();
    },
  };
  try {
    const l = await createUnderlay(id, { dir });
    for (let i = 1; i <= n; i++) hosts.push(await createHost(l, i));
    if (opts.docker !== false) {
      await Promise.all(hosts.map((h) => startDockerd(h)));
      for (const h of hosts) await ensureBusyboxImage(h, { cacheDir: workerCacheDir() });
    }
  } catch (e) {
    await lab.down();
    throw e;
  }
  return lab;
}

/**
 * The network most agent tests run on: ClusterNetwork "default" (10.76.0.0/16, Docker network
 * net1) and host-N's HostSubnet 10.76.N.0/24 on bridge br0N with Docker's range in its upper
 * half. The controller does not run in these tests: subnets are given in the spec, which xnet honours.
 */
/**
 * n hosts whose Nodes nobody but the controller makes (each host joins by its agent's report),
 * with that controller started under the controller identity (XNET_LOG_LEVEL sets its log).
 */
export async function agentLabWithController(n: number): Promise<{ lab: AgentLab; controller: Controller }> {
  const lab = await agentLab(n, { nodes: 'controller' });
  const log = createLogger('controller');
  log.level = process.env.XNET_LOG_LEVEL ?? 'warn';
  const controller = new Controller({ client: lab.controllerClient(), log, leaseTtlSeconds: 5 });
  try {
    await controller.start();
  } catch (e) {
    // what the start made (its cache's watches) is stopped too, as macvlanIpamLab does
    await controller.stop().catch(() => undefined);
    await lab.down();
    throw e;
  }
  return { lab, controller };
}

/** Starts the agent of host `i` (0-based) and waits for the Node the controller makes from its report (agentLabWithController). */
export async function agentJoined(lab: AgentLab, i = 0): Promise<void> {
  await lab.startAgent(lab.hosts[i]);
  const name = `host-${i + 1}`;
  await eventually(async () => (await lab.store.get('Node', name)) ?? undefined, `Node ${name} made from its report`, 30_000);
}

/** Stops the controller (an error stopping it is not the test's) and takes the lab down; either may be unset after a failed set-up. */
export async function downWithController(lab: AgentLab | undefined, controller: Controller | undefined): Promise<void> {
  await controller?.stop().catch(() => undefined);
  await lab?.down();
}

/**
 * A lab of `n` hosts with the controller, a MacvlanNet `name` (Docker's IPAM from xnet, the
 * default) applied before the agents start (so they join it late), and every agent running
 * until it is Ready.
 */
export async function macvlanIpamLab(n: number, name: string, spec: Record<string, unknown>): Promise<{ lab: AgentLab; controller: Controller }> {
  const { lab, controller } = await agentLabWithController(n);
  try {
    await lab.store.applyAll([obj('MacvlanNet', name, spec)]);
    for (const h of lab.hosts) await lab.startAgent(h);
    // Ready counts the nodes selected so far: the Nodes are made as their agents report, so a
    // slow second agent left the MacvlanNet Ready on host-1 alone, and a test's first docker run
    // on host-2 found no network there ("network shared not found"): every host's part, ready
    await eventually(async () => {
      const m = (await lab.store.get('MacvlanNet', name)) as MacvlanNet | undefined;
      const ready = (m?.status?.nodes ?? []).filter((p) => p.ready).map((p) => p.name);
      return m && isReady(m) && lab.hosts.every((h) => ready.includes(h.name));
    }, `MacvlanNet ${name} Ready on ${n} host(s)`, 90_000);
  } catch (e) {
    // the caller never gets the lab to take down: what was built goes here
    await controller.stop().catch(() => undefined);
    await lab.down();
    throw e;
  }
  return { lab, controller };
}

/** The lab of a test file that runs on one MacvlanNet (macvlanIpamLab), up before its tests, down after. */
export interface IpamLabEnv { readonly lab: AgentLab }

/**
 * Registers the file's beforeAll (macvlanIpamLab) and afterAll (`beforeDown`, the controller
 * stopped, the lab down, also after a failure) and returns the lab once it is up.
 */
export function useMacvlanIpamLab(n: number, name: string, spec: Record<string, unknown>, beforeDown?: (lab: AgentLab) => void): IpamLabEnv {
  // a build that outlives beforeAll's timeout is still taken down (test/harness/built.ts)
  const built = useBuilt(() => macvlanIpamLab(n, name, spec), async ({ lab, controller }) => {
    beforeDown?.(lab);
    await downWithController(lab, controller);
  }, { buildMs: 300_000, downMs: 180_000 }, 'the lab');
  return { get lab() { return built().lab; } };
}

/**
 * One host on the default network (createDefaultNetwork) with its agent started (`agentOpts`:
 * its options, from the host); the lab is taken down again when a step of this fails.
 */
export async function oneHostAgentLab(agentOpts: (h: LabHost) => Partial<AgentOptions> = () => ({})): Promise<AgentLab> {
  const lab = await agentLab(1);
  try {
    await createDefaultNetwork(lab.store, 1);
    await lab.startAgent(lab.hosts[0], agentOpts(lab.hosts[0]));
    return lab;
  } catch (e) {
    await lab.down();
    throw e;
  }
}

export async function createDefaultNetwork(store: Store, hosts = 2): Promise<void> {
  await store.create(obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24, dockerNetwork: 'net1' }));
  for (let i = 1; i <= hosts; i++) {
    await store.create(obj('HostSubnet', `default-host-${i}`, { node: `host-${i}`, clusterNetwork: 'default', subnet: `10.76.${i}.0/24`, bridge: `br0${i}`, dockerRange: `10.76.${i}.128/25` }));
    // Standing in for the controller: peers route only via the node address it checked and
    // copied into HostSubnet status (never via what a node reports about itself).
    await store.writeStatus('HostSubnet', `default-host-${i}`, { controller: true }, { nodeAddress: `198.18.0.${10 + i}` });
  }
}

/** Stands in for the controller: the address it would allocate to a NIC on host-1's subnet. */
export async function allocateNic(store: Store, name: string, ip: string): Promise<void> {
  await store.writeStatus('ContainerNic', name, { controller: true }, { ip, prefixLength: 24, gateway: '10.76.1.1', hostSubnet: 'default-host-1' });
}

/**
 * MacvlanNet `name` on 192.168.<octet>.0/24 (`dockerIPAM: blocks`) with the controller's part for
 * host-1 and host-2 written as the controller would, for agent tests that run no controller.
 */
export async function twoHostMacvlanNet(store: Store, name: string, octet: number): Promise<void> {
  const net = `192.168.${octet}`;
  await store.create(obj('MacvlanNet', name, { subnet: `${net}.0/24`, ipRange: `${net}.128/25`, dockerIPAM: 'blocks' }));
  await store.writeStatus('MacvlanNet', name, { controller: true }, {
    nodes: [{ name: 'host-1', dockerRange: `${net}.128/28` }, { name: 'host-2', dockerRange: `${net}.144/28` }],
  });
}

/**
 * MacvlanNet `name` on 192.168.<octet>.0/24 (`dockerIPAM: blocks`, parent eth0) with host-1's part
 * written as the controller would: its Docker block <octet>.128/28 and, when given, its shim address.
 */
export async function oneHostMacvlanNet(store: Store, name: string, octet: number, shimAddress?: string): Promise<void> {
  const net = `192.168.${octet}`;
  await store.create(obj('MacvlanNet', name, { subnet: `${net}.0/24`, ipRange: `${net}.128/25`, dockerIPAM: 'blocks', parent: 'eth0' }));
  await store.writeStatus('MacvlanNet', name, { controller: true }, { nodes: [{ name: 'host-1', dockerRange: `${net}.128/28`, ...(shimAddress ? { shimAddress } : {}) }] });
}

/** The object's Ready condition in the merged view; undefined while it has none or is gone. */
export async function readyCondition(store: Store, kind: Kind, name: string): Promise<Condition | undefined> {
  return getCondition((await store.get(kind, name))?.status?.conditions, 'Ready');
}

export async function sh(h: LabHost, argv: string[]): Promise<string> {
  const r = await hostExec(h, argv);
  return r.stdout;
}

export async function routes(h: LabHost): Promise<Array<{ dst: string; gateway?: string; protocol?: string; dev?: string }>> {
  return JSON.parse((await hostExec(h, ['ip', '-json', 'route', 'show'])).stdout || '[]');
}

/**
 * `docker ARGS` on the host, its stdout; throws when it fails. The forms of docker-calls.ts
 * (run/start/stop/rm of a container, its PID or address, the networks' names) go through Docker's API
 * from this process, the others through the `docker` CLI.
 */
export async function docker(h: LabHost, args: string[]): Promise<string> {
  const viaApi = await dockerViaApi(h, args).catch((e: Error) => { throw new Error(`docker ${args.join(' ')} on ${h.name}: ${e.message}`); });
  if (viaApi !== undefined) return viaApi.trim();
  const r = await hostDocker(h, args);
  if (r.exitCode !== 0) throw new Error(`docker ${args.join(' ')} on ${h.name}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A long-running busybox container (its ID); `extra` are docker run options (e.g. --net net1). */
export async function runContainer(h: LabHost, name: string, extra: string[] = []): Promise<string> {
  return docker(h, ['run', '-d', '--name', name, ...extra, BUSYBOX_IMAGE, 'sleep', '100000']);
}

/**
 * argv in namespaces of the container's first process (nsenter -t PID), or why it cannot run
 * there (no such container, or it does not run), as `docker exec` would fail.
 */
async function enterContainer(h: LabHost, name: string, ns: string[], argv: string[]): Promise<ExecResult | string> {
  const pid = await containerPid(h, name).catch((e: Error) => (e instanceof DockerApiRefusal ? e.message : Promise.reject(e)));
  if (typeof pid === 'string') return pid;
  if (!(pid > 0)) return `container ${name} on ${h.name} is not running (pid ${pid})`;
  return run(['nsenter', '-t', String(pid), ...ns, ...argv], { env: hostEnv(h), reject: false });
}

/**
 * argv as root in the container's network, mount and PID namespaces (its own programs, busybox's
 * `ping`, `ip`, `netstat`; its /proc resolves /proc/self only in its PID namespace): what
 * `docker exec` showed of it, without the CLI and runc's exec per look.
 */
export async function inContainer(h: LabHost, name: string, argv: string[]): Promise<{ stdout: string; exitCode: number }> {
  const r = await enterContainer(h, name, ['-n', '-m', '-p'], argv);
  return typeof r === 'string' ? { stdout: r, exitCode: 1 } : { stdout: r.stdout + r.stderr, exitCode: r.exitCode };
}

/** Runs argv with the machine's tools inside a container's network namespace (as root, unlike docker exec). */
export async function inContainerNetns(h: LabHost, name: string, argv: string[]): Promise<ExecResult> {
  const r = await enterContainer(h, name, ['-n'], argv);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

/** `xctl ARGS` in-process as the lab's admin (TLS + auth): its exit code, stdout and stderr. */
export async function labXctl(lab: AgentLab, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = { code: -1, out: '', err: '' };
  const auth = lab.etcd.auth!;
  r.code = await runXctl(['--endpoints', lab.etcd.endpoints.join(','), ...tlsArgs(auth.ids.ca.caCert, auth.ids.admin), ...args], {
    out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => '', env: {},
  });
  return r;
}

