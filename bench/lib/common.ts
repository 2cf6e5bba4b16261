// What every benchmark needs: a throwaway etcd, objects to apply, a logger that keeps quiet so
// that the figures are the whole output, and key counts that do not ship the values (polling
// 10k keys' worth of JSON would be measured along with the controller).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { callDeadlines, etcdChannelOptions } from '../../pkg/etcd/client.js';
import { startEtcdServer } from '../../pkg/etcd/server.js';
import { ETCD_RAISED_LIMITS, type EtcdLimits } from '../../pkg/etcd/limits.js';
import { prefixEnd } from '../../pkg/etcd/range.js';
import { API_VERSION, type AnyObject, type Kind } from '../../pkg/api/index.js';
import { createLogger } from '../../pkg/log.js';

export const obj = (kind: Kind, name: string, spec: Record<string, unknown>) => ({ apiVersion: API_VERSION, kind, metadata: { name }, spec }) as AnyObject;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function quietLog(component: string, meta?: Record<string, string>) {
  const log = createLogger(component, meta);
  log.level = process.env.XNET_LOG_LEVEL ?? 'error';
  return log;
}

export async function countKeys(client: Etcd3, prefix: string): Promise<number> {
  const r = await client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), count_only: true });
  return Number(r.count);
}

/**
 * A single-member etcd on free loopback ports; stop() also closes the client and removes the
 * data. etcd's default request limits unless `limits` says otherwise (a run that measures what
 * raised limits buy, and says so in its output).
 */
export async function benchEtcd(name: string, limits?: EtcdLimits): Promise<{ client: Etcd3; endpoints: string[]; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `xnet-bench-${name}-`));
  const etcd = await startEtcdServer({ dataDir: dir, limits });
  const client = new Etcd3({ hosts: etcd.endpoints, defaultCallOptions: callDeadlines(), grpcOptions: etcdChannelOptions() });
  return {
    client,
    endpoints: etcd.endpoints,
    async stop() {
      client.close();
      await etcd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One run of a benchmark that compares etcd's default limits with raised ones. */
export interface LimitRun { ops: number; label: string; client: Etcd3; first: boolean }

/**
 * Runs `fn` at --max-txn-ops 128 on a stock etcd, then at 1,024 on an etcd started with raised
 * limits (what raising them buys), each etcd fresh and stopped after. `first`: the stock run,
 * where the benchmark measures its baseline.
 */
export async function forEachLimit(name: string, fn: (run: LimitRun) => Promise<void>): Promise<void> {
  const runs = [
    { ops: 128, label: 'stock etcd', limits: undefined },
    { ops: 1024, label: 'etcd with raised limits', limits: ETCD_RAISED_LIMITS },
  ];
  for (const [i, r] of runs.entries()) {
    const etcd = await benchEtcd(`${name}${r.ops}`, r.limits);
    try {
      await fn({ ops: r.ops, label: r.label, client: etcd.client, first: i === 0 });
    } finally {
      await etcd.stop();
    }
  }
}
