// dockerode adapter: the only file that knows dockerode's shapes.
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { dockerRequestDuration, timed } from '../metrics/metrics.js';
import { DOCKER_EVENTS_BACKOFF, DOCKER_EVENTS_STABLE_MS, restartPace } from '../runtime/backoff.js';
import { DockerError, type ContainerInfo, type NetworkEndpoint, type DockerEvent, type DockerNetwork, type DockerNetworkSpec } from './types.js';

/** PEM files of Docker's TLS (dockerd --tlsverify): the CA, and this client's certificate and key. */
export interface DockerTlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

const TLS_FLAGS = { ca: '--docker-tls-ca', cert: '--docker-tls-cert', key: '--docker-tls-key' } as const;

function readTls(url: string, tls: DockerTlsFiles): { ca: Buffer; cert: Buffer; key: Buffer } {
  const missing = (Object.keys(TLS_FLAGS) as (keyof DockerTlsFiles)[]).filter((k) => !tls[k]).map((k) => TLS_FLAGS[k]);
  if (missing.length) {
    throw new DockerError('DockerUnavailable', `--docker-host ${url}: Docker's API over TCP without TLS gives root on this host to anyone who reaches the port; give ${missing.join(', ')} (or use unix:///path)`);
  }
  const read = (k: keyof DockerTlsFiles) => {
    try { return readFileSync(tls[k]!); } catch (e) { throw new DockerError('DockerUnavailable', `${TLS_FLAGS[k]} ${tls[k]}: ${(e as Error).message}`); }
  };
  return { ca: read('ca'), cert: read('cert'), key: read('key') };
}

/**
 * "unix:///run/x.sock" or a bare socket path; "tcp://host:port" (or https://) only with TLS:
 * the daemon verifies our certificate and we verify its with the CA. Plain HTTP is refused.
 */
export function dockerOptions(url: string | undefined, tls: DockerTlsFiles = {}): Docker.DockerOptions {
  const tlsGiven = !!(tls.ca || tls.cert || tls.key);
  const local = !url || url.startsWith('unix://') || url.startsWith('/');
  if (local && tlsGiven) throw new DockerError('DockerUnavailable', '--docker-tls-* apply to --docker-host tcp://host:port only');
  if (!url) return { socketPath: '/var/run/docker.sock' };
  if (url.startsWith('unix://')) return { socketPath: url.slice('unix://'.length) };
  if (url.startsWith('/')) return { socketPath: url };
  const m = /^(tcp|http|https):\/\/([^:/]+)(?::(\d+))?\/?$/.exec(url);
  if (!m) throw new DockerError('DockerUnavailable', `--docker-host ${url}: expected unix:///path or tcp://host:port`);
  return { host: m[2], port: Number(m[3] ?? 2376), protocol: 'https', ...readTls(url, tls) };
}

/**
 * A dockerode failure as a DockerError with the reason a user acts on. Docker answers 403 both
 * to removing a network that has containers and to making one whose subnet overlaps another
 * network's: told apart by the message.
 */
export function toDockerError(e: unknown, what: string): DockerError {
  const err = e as { code?: string; statusCode?: number; json?: { message?: string }; message?: string };
  if (/timeout/i.test(err.message ?? '') && !err.statusCode) {
    return new DockerError('DockerTimedOut', `${what}: Docker did not answer in time (${err.message}); the request was abandoned`);
  }
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' || err.code === 'EPIPE') {
    return new DockerError('DockerUnavailable', `${what}: Docker daemon not reachable (${err.code}); is dockerd running?`);
  }
  const msg = err.json?.message ?? err.message ?? String(e);
  if (/has active endpoints/.test(msg)) return new DockerError('NetworkInUse', `${what}: ${msg}`);
  if (/pool overlaps/i.test(msg)) return new DockerError('SubnetOverlap', `${what}: ${msg} (another Docker network on this host holds an overlapping subnet)`);
  return new DockerError('DockerRequestFailed', `${what}: ${msg}`);
}

interface RawNetwork {
  Id: string; Name: string; Driver: string;
  IPAM?: { Driver?: string; Options?: Record<string, string> | null; Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> };
  Options?: Record<string, string>; Labels?: Record<string, string>; Containers?: Record<string, unknown>;
}

export function toNetwork(n: RawNetwork): DockerNetwork {
  const c = n.IPAM?.Config?.[0] ?? {};
  const net: DockerNetwork = {
    id: n.Id, name: n.Name, driver: n.Driver as DockerNetwork['driver'],
    subnet: c.Subnet ?? '', options: n.Options ?? {}, labels: n.Labels ?? {},
    containers: Object.keys(n.Containers ?? {}).length,
  };
  const subnets = (n.IPAM?.Config ?? []).map((x) => x.Subnet).filter((x): x is string => !!x);
  if (subnets.length > 1) net.subnets = subnets;
  if (c.Gateway) net.gateway = c.Gateway;
  if (c.IPRange) net.ipRange = c.IPRange;
  if (n.IPAM?.Driver && n.IPAM.Driver !== 'default') net.ipamDriver = n.IPAM.Driver;
  if (n.IPAM?.Options && Object.keys(n.IPAM.Options).length) net.ipamOptions = n.IPAM.Options;
  return net;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * A network's containers as Docker's inspect shows them, read defensively: a field of another
 * type (a Docker bug, a proxy) gives an empty name or address, which callers skip, not a throw
 * that would stop what reads them (the IPAM plugin's adoption).
 */
export function endpointsOf(n: { Containers?: unknown } | null | undefined): NetworkEndpoint[] {
  const containers = n?.Containers;
  if (!containers || typeof containers !== 'object') return [];
  return Object.entries(containers as Record<string, unknown>).map(([id, c]) => {
    const ep = (c && typeof c === 'object' ? c : {}) as { Name?: unknown; IPv4Address?: unknown; MacAddress?: unknown };
    return { container: id, name: text(ep.Name), ip: text(ep.IPv4Address).split('/')[0], mac: text(ep.MacAddress).toLowerCase() };
  });
}

/** Budget of one Docker API request; the socket is dropped after it (the event stream has none). */
export const DOCKER_REQUEST_TIMEOUT_MS = 30_000;

export class DockerClient {
  readonly docker: Docker;
  /** the long-lived event stream: no request timeout, it is idle for minutes on end */
  private readonly stream: Docker;

  constructor(url?: string, tls?: DockerTlsFiles, private readonly timeoutMs = DOCKER_REQUEST_TIMEOUT_MS) {
    this.docker = new Docker({ ...dockerOptions(url, tls), timeout: timeoutMs });
    this.stream = new Docker(dockerOptions(url, tls));
  }

  /** Every Docker API call goes through here, so its latency is measured in one place. */
  private async call<T>(operation: string, f: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await timed(dockerRequestDuration, { operation }, f);
    } catch (e) {
      // docker-modem ends a request past its timeout by destroying the socket, which fails it
      // as ECONNRESET "socket hang up", as if the daemon had died; only the time tells a hung
      // daemon (DockerTimedOut) from a gone one (DockerUnavailable).
      if ((e as { code?: string }).code === 'ECONNRESET' && Date.now() - t0 >= this.timeoutMs) {
        throw Object.assign(new Error(`no answer within ${this.timeoutMs} ms (timeout)`), { code: 'ETIMEDOUT' });
      }
      throw e;
    }
  }

  /**
   * Whether Docker answers. `withinMs`: the request is ended (its connection closed) once that
   * long unanswered, DockerTimedOut; a bound that only stopped waiting for it left it open until
   * the client's timeout, one more connection for each ping sent again to a dockerd that holds
   * them (one restoring its containers: ../dockeripam/restore.ts).
   */
  async ping(withinMs?: number): Promise<void> {
    const abort = withinMs === undefined ? undefined : new AbortController();
    const bound = abort && setTimeout(() => abort.abort(), withinMs);
    // dockerode's ping takes an abortSignal (its typings do not say so)
    const ping = this.docker.ping as unknown as (opts: { abortSignal?: AbortSignal }) => Promise<unknown>;
    try {
      await this.call('ping', () => ping.call(this.docker, abort ? { abortSignal: abort.signal } : {}));
    } catch (e) {
      if (abort?.signal.aborted) throw new DockerError('DockerTimedOut', `ping: Docker did not answer within ${withinMs} ms; the request was abandoned`);
      throw toDockerError(e, 'ping');
    } finally { clearTimeout(bound); }
  }

  /** The ids of the running containers. */
  async runningContainers(): Promise<string[]> {
    try {
      const list = await this.call('list_containers', () => this.docker.listContainers({ all: false }));
      return list.map((c) => c.Id);
    } catch (e) { throw toDockerError(e, 'list containers'); }
  }

  /**
   * The names of the containers that reference network `id` but hold no endpoint in it
   * (`endpoints`: the ids of those that do, from the network's inspect): stopped, created,
   * restarting, and one stopping right now, which Docker still lists as running after its
   * endpoint went (the network's disconnect event comes before its state is exited). Docker
   * keeps their endpoint settings, with the network's id, for their next start. By id: Docker's
   * `network` filter matches an id by prefix, and a name would also match containers stranded
   * by an earlier network of that name.
   */
  async stoppedContainersOn(id: string, endpoints: ReadonlySet<string>): Promise<string[]> {
    try {
      const list = await this.call('list_containers', () => this.docker.listContainers({ all: true, filters: { network: [id] } }));
      // paused containers keep their endpoint: they count as attached in the network's inspect
      return list.filter((c) => !endpoints.has(c.Id) && c.State !== 'paused').map((c) => (c.Names?.[0] ?? c.Id).replace(/^\//, ''));
    } catch (e) { throw toDockerError(e, `list containers on network ${id}`); }
  }

  /**
   * The static addresses (`--ip`: IPAMConfig.IPv4Address) that containers referencing network
   * `name` keep there, running or not: a stopped container holds no endpoint, but gets its
   * address back at its next start. One list call, filtered by the network.
   */
  async staticAddressesOn(name: string): Promise<string[]> {
    return (await this.staticHoldersOn(name)).map((h) => h.ip);
  }

  /** staticAddressesOn, with the name of the container keeping each address (for messages). */
  async staticHoldersOn(name: string): Promise<Array<{ ip: string; name: string }>> {
    try {
      const list = await this.call('list_containers', () => this.docker.listContainers({ all: true, filters: { network: [name] } }));
      return list.map((c) => ({
        ip: ((c.NetworkSettings?.Networks ?? {}) as Record<string, { IPAMConfig?: { IPv4Address?: string } | null }>)[name]?.IPAMConfig?.IPv4Address ?? '',
        name: (c.Names?.[0] ?? '').replace(/^\//, ''),
      })).filter((h) => h.ip);
    } catch (e) { throw toDockerError(e, `list containers on network ${name}`); }
  }

  async listNetworks(): Promise<DockerNetwork[]> {
    let list: RawNetwork[];
    try { list = (await this.call('list_networks', () => this.docker.listNetworks())) as RawNetwork[]; } catch (e) { throw toDockerError(e, 'list networks'); }
    // The list call leaves Containers empty; inspect the few we care about when asked.
    return list.map(toNetwork);
  }

  /** The network with `endpointIds`, the containers that hold an endpoint in it. */
  async inspectNetwork(name: string): Promise<DockerNetwork | undefined> {
    try {
      const raw = (await this.call('inspect_network', () => this.docker.getNetwork(name).inspect())) as RawNetwork;
      return { ...toNetwork(raw), endpointIds: Object.keys(raw.Containers ?? {}) };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw toDockerError(e, `inspect network ${name}`);
    }
  }

  async createNetwork(s: DockerNetworkSpec): Promise<string> {
    const cfg: Record<string, string> = { Subnet: s.subnet };
    if (s.gateway) cfg.Gateway = s.gateway;
    if (s.ipRange) cfg.IPRange = s.ipRange;
    try {
      const n = await this.call('create_network', () => this.docker.createNetwork({
        Name: s.name, Driver: s.driver, CheckDuplicate: true,
        IPAM: { Driver: s.ipamDriver ?? 'default', Config: [cfg], ...(s.ipamOptions ? { Options: s.ipamOptions } : {}) }, Options: s.options, Labels: s.labels,
      }));
      return n.id;
    } catch (e) { throw toDockerError(e, `create network ${s.name}`); }
  }

  /**
   * `shown`: how errors name the network (its name, when asked by id). A network not there (404)
   * is done: false says that nothing was removed (its name may be another network's by now).
   */
  async removeNetwork(nameOrId: string, shown = nameOrId): Promise<boolean> {
    try { await this.call('remove_network', () => this.docker.getNetwork(nameOrId).remove()); } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return false;
      throw toDockerError(e, `remove network ${shown}`);
    }
    return true;
  }

  /** The containers attached to a network with their IPv4 addresses; undefined when no such network. */
  async networkEndpoints(name: string): Promise<NetworkEndpoint[] | undefined> {
    let n: RawNetwork;
    try { n = (await this.call('inspect_network', () => this.docker.getNetwork(name).inspect())) as RawNetwork; } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw toDockerError(e, `inspect network ${name}`);
    }
    return endpointsOf(n);
  }

  /** Takes a container off a network (its address goes back to the network's IPAM). */
  async disconnect(network: string, container: string): Promise<void> {
    try {
      await this.call('network_disconnect', () => this.docker.getNetwork(network).disconnect({ Container: container, Force: true }));
    } catch (e) { throw toDockerError(e, `disconnect ${container} from ${network}`); }
  }

  /** Attaches a container to a network, with a given address when `ip` is set (docker network connect --ip). */
  async connect(network: string, container: string, ip?: string): Promise<void> {
    try {
      await this.call('network_connect', () => this.docker.getNetwork(network).connect({ Container: container, ...(ip ? { EndpointConfig: { IPAMConfig: { IPv4Address: ip } } } : {}) }));
    } catch (e) { throw toDockerError(e, `connect ${container} to ${network}${ip ? ` with ${ip}` : ''}`); }
  }

  /** undefined when no such container exists. */
  async inspectContainer(nameOrId: string): Promise<ContainerInfo | undefined> {
    try {
      const c = await this.call('inspect_container', () => this.docker.getContainer(nameOrId).inspect());
      const pinnedIps: Record<string, string> = {};
      for (const [net, ep] of Object.entries(c.NetworkSettings?.Networks ?? {})) {
        const ip = (ep as { IPAMConfig?: { IPv4Address?: string } | null }).IPAMConfig?.IPv4Address;
        if (ip) pinnedIps[net] = ip;
      }
      return {
        id: c.Id, name: c.Name.replace(/^\//, ''), running: c.State.Running, pid: c.State.Pid ?? 0, startedAt: text(c.State.StartedAt), networkMode: c.HostConfig?.NetworkMode ?? '',
        restartPolicy: c.HostConfig?.RestartPolicy?.Name ?? '', pinnedIps,
        ...(c.NetworkSettings?.Networks ? { networks: Object.keys(c.NetworkSettings.Networks) } : {}),
      };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw toDockerError(e, `inspect container ${nameOrId}`);
    }
  }

  /** The event stream: it has no request timeout (it idles for minutes), but its answer has one. */
  private async openEvents(): Promise<NodeJS.ReadableStream & { destroy?: () => void }> {
    const abort = new AbortController();
    const opening = this.stream.getEvents({ filters: { type: ['container', 'network'] }, abortSignal: abort.signal }) as Promise<NodeJS.ReadableStream & { destroy?: () => void }>;
    let t: NodeJS.Timeout | undefined;
    return Promise.race([opening, new Promise<never>((_, reject) => {
      t = setTimeout(() => {
        abort.abort(); // the request's socket goes with it
        void opening.then((x) => x.destroy?.(), () => undefined);
        reject(new DockerError('DockerUnavailable', `no answer to the event stream request within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    })]).finally(() => clearTimeout(t));
  }

  /**
   * Docker's event stream (containers and networks), opened again when the daemon goes away
   * after DOCKER_EVENTS_BACKOFF's waits (from `retryMs`, 1 s, doubling to 5 s, or to `retryMs`
   * when it is longer; from the first again after a stream that stayed up `stableMs`). onError tells each failure and the wait
   * before the next attempt; onConnect fires on every (re)connection: events may have been
   * missed, so callers resync then.
   */
  events(onEvent: (e: DockerEvent) => void, handlers: EventHandlers = {}): { close(): void } {
    let closed = false;
    let stream: NodeJS.ReadableStream & { destroy?: () => void } | undefined;
    let timer: NodeJS.Timeout | undefined;
    const first = handlers.retryMs ?? DOCKER_EVENTS_BACKOFF.initialMs;
    // the cap cuts no first wait a caller asked for (a test holds a window open with 20 s)
    const policy = { ...DOCKER_EVENTS_BACKOFF, initialMs: first, maxMs: Math.max(DOCKER_EVENTS_BACKOFF.maxMs, first) };
    const pace = restartPace(policy, handlers.stableMs ?? DOCKER_EVENTS_STABLE_MS);
    const retry = (err: unknown) => {
      if (closed) return;
      const delay = pace.next();
      handlers.onError?.(err instanceof DockerError ? err : toDockerError(err, 'events'), delay);
      timer = setTimeout(connect, delay);
    };
    const connect = async () => {
      if (closed) return;
      try {
        const s = await this.openEvents();
        if (closed) { s.destroy?.(); return; }
        stream = s;
        pace.started();
        handlers.onConnect?.();
        let buf = '';
        s.on('data', (chunk: Buffer) => {
          buf += chunk.toString('utf8');
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i).trim();
            buf = buf.slice(i + 1);
            if (!line) continue;
            try { onEvent(toEvent(JSON.parse(line))); } catch { /* a malformed line is not worth the stream */ }
          }
        });
        let ended = false;
        const end = (err?: unknown) => { if (ended) return; ended = true; retry(err ?? new DockerError('DockerUnavailable', 'event stream ended')); };
        s.on('end', () => end());
        s.on('error', (e) => end(e));
        s.on('close', () => end());
      } catch (e) { retry(e); }
    };
    void connect();
    return {
      close() {
        closed = true;
        if (timer) clearTimeout(timer);
        stream?.destroy?.();
      },
    };
  }
}

export interface EventHandlers {
  onConnect?: () => void;
  /** a failure to open the stream, or its break; the next attempt is `retryInMs` later */
  onError?: (err: DockerError, retryInMs: number) => void;
  /** the first wait (DOCKER_EVENTS_BACKOFF's by default); one longer than its cap is also the longest */
  retryMs?: number;
  /** how long a stream must stay up for its break to wait the first wait again */
  stableMs?: number;
}

interface RawEvent { Type: string; Action: string; Actor?: { ID?: string; Attributes?: Record<string, string> }; timeNano?: number }

export function toEvent(r: RawEvent): DockerEvent {
  const e: DockerEvent = { type: r.Type, action: r.Action, id: r.Actor?.ID ?? '', timeNano: r.timeNano ?? 0 };
  const name = r.Actor?.Attributes?.name;
  if (name) e.name = name;
  const container = r.Actor?.Attributes?.container;
  if (container) e.container = container;
  return e;
}
