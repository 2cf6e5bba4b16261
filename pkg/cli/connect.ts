// Which etcd xctl talks to: --endpoints, else XCTL_ENDPOINTS, else the running lab, else the
// local default, so that `xctl get nodes` just works after `xctl lab up`.
import type { Etcd3 } from 'etcd3';
import { createEtcdClient, tlsFilesGiven, type EtcdConnection, type TlsFiles } from '../etcd/client.js';
import { parseEndpoints } from '../etcd/endpoints.js';
import { runningLabConnection, runningLabEndpoints, type LabConnection } from '../lab/state.js';
import { createEtcdStore } from '../store/etcd-store.js';
import type { Store } from '../store/types.js';
import type { CliIO } from './io.js';
import { stderrLogger } from '../log-line.js';

/** The store's log in xctl: errors only, on stderr, without loading winston (log-line.ts). */
function quietStoreLog() {
  return stderrLogger('store', 'error');
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:2379';

export interface GlobalOptions extends TlsFiles {
  endpoints?: string;
}

/**
 * The endpoints the user gave, checked (a bad one is a usage error): --endpoints, also when
 * given empty (a script's unset variable must not reach another etcd, such as the lab's), else
 * XCTL_ENDPOINTS. An empty XCTL_ENDPOINTS counts as unset, as kubectl counts an empty KUBECONFIG.
 * A bare HOST:PORT is https when TLS files are given (parseEndpoints).
 */
export function givenEndpoints(opts: GlobalOptions, env: CliIO['env']): string[] | undefined {
  const tls = tlsFilesGiven(opts);
  if (opts.endpoints !== undefined) return parseEndpoints(opts.endpoints, '--endpoints', tls);
  if (env.XCTL_ENDPOINTS) return parseEndpoints(env.XCTL_ENDPOINTS, 'XCTL_ENDPOINTS', tls);
  return undefined;
}

export function resolveEndpoints(opts: GlobalOptions, env: CliIO['env'], lab: () => string[] | undefined = runningLabEndpoints): string[] {
  const given = givenEndpoints(opts, env);
  if (given) return given;
  const fromLab = lab();
  if (fromLab?.length) return fromLab;
  return [DEFAULT_ENDPOINT];
}

/** Where a connection's endpoints came from (messages name it). */
export type EndpointSource = '--endpoints' | 'XCTL_ENDPOINTS' | 'lab' | 'default';

export function endpointSource(opts: GlobalOptions, env: CliIO['env'], conn: EtcdConnection): EndpointSource {
  if (opts.endpoints !== undefined) return '--endpoints';
  if (env.XCTL_ENDPOINTS) return 'XCTL_ENDPOINTS';
  return conn.endpoints.length === 1 && conn.endpoints[0] === DEFAULT_ENDPOINT ? 'default' : 'lab';
}

/**
 * Endpoints as resolveEndpoints says; TLS files from the flags, else, when the endpoints are
 * the running lab's, the lab's CA and admin identity (its etcd admits no one without one).
 */
export function connection(opts: GlobalOptions, env: CliIO['env'], lab: () => LabConnection | undefined = runningLabConnection): EtcdConnection {
  const flags = { cacert: opts.cacert, cert: opts.cert, key: opts.key };
  const given = givenEndpoints(opts, env);
  if (given) return { endpoints: given, ...flags };
  const fromLab = lab();
  if (fromLab?.endpoints.length && !tlsFilesGiven(opts)) return { ...fromLab };
  return { endpoints: resolveEndpoints(opts, env, () => fromLab?.endpoints), ...flags };
}

/** Commands get a Session: one client, opened lazily, closed when the command ends. */
export class Session {
  private etcd?: Etcd3;
  private st?: Store;
  constructor(readonly conn: EtcdConnection) {}

  client(): Etcd3 {
    this.etcd ??= createEtcdClient(this.conn);
    return this.etcd;
  }

  store(): Store {
    // Commands report skipped keys themselves, one line each: the store's own warnings would repeat them.
    this.st ??= createEtcdStore(this.client(), undefined, quietStoreLog());
    return this.st;
  }

  describeEndpoints(): string {
    return this.conn.endpoints.join(',');
  }

  async close(): Promise<void> {
    if (this.st) await this.st.close().catch(() => undefined);
    else this.etcd?.close();
  }
}
