import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions } from 'etcd3';
import { UsageError } from '../errors.js';

export interface EtcdConnection {
  endpoints: string[];
  cacert?: string;
  cert?: string;
  key?: string;
}

/** Bad connection flags or TLS files: a usage error, found before any I/O. */
export class EtcdConfigError extends UsageError {
  constructor(message: string) { super(message, 'EtcdConfig'); }
}

/** Builds an etcd3 client; TLS files are read here so a missing file fails before any I/O. */
export function createEtcdClient(conn: EtcdConnection): Etcd3 {
  if (conn.endpoints.length === 0) throw new EtcdConfigError('no etcd endpoints given');
  const opts: IOptions = { hosts: conn.endpoints, dialTimeout: 5000 };
  if (conn.cacert || conn.cert || conn.key) {
    if (!conn.cacert) throw new EtcdConfigError('--cert/--key need --cacert');
    const read = (f: string, flag: string) => {
      try { return readFileSync(f); } catch (e) { throw new EtcdConfigError(`${flag} ${f}: ${(e as Error).message}`); }
    };
    opts.credentials = {
      rootCertificate: read(conn.cacert, '--cacert'),
      ...(conn.cert ? { certChain: read(conn.cert, '--cert') } : {}),
      ...(conn.key ? { privateKey: read(conn.key, '--key') } : {}),
    };
  }
  return new Etcd3(opts);
}

export function parseEndpoints(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter(Boolean);
}
